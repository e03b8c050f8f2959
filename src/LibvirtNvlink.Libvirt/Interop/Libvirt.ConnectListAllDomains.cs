using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains, unsigned int flags).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectListAllDomains")]
    public static partial int ConnectListAllDomains(LibvirtConnectionHandle conn, out nint domains, uint flags);
}
