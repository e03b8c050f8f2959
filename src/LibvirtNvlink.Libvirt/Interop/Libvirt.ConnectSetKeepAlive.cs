using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectSetKeepAlive(virConnectPtr conn, int interval, unsigned int count).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectSetKeepAlive")]
    public static partial int ConnectSetKeepAlive(LibvirtConnectionHandle conn, int interval, uint count);
}
