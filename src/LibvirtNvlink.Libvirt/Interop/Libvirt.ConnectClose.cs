using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectClose(virConnectPtr conn).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectClose")]
    public static partial int ConnectClose(nint conn);
}
