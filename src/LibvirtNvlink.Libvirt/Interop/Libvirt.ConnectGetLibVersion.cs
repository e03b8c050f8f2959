using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectGetLibVersion(virConnectPtr conn, unsigned long *libVer).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectGetLibVersion")]
    public static partial int ConnectGetLibVersion(LibvirtConnectionHandle conn, out nuint libVer);
}
