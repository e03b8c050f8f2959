using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectIsAlive(virConnectPtr conn).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectIsAlive")]
    public static partial int ConnectIsAlive(LibvirtConnectionHandle conn);
}
