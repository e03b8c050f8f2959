using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectGetVersion(virConnectPtr conn, unsigned long *hvVer): the hypervisor's (QEMU's) version.</summary>
    [LibraryImport(Library, EntryPoint = "virConnectGetVersion")]
    public static partial int ConnectGetVersion(LibvirtConnectionHandle conn, out nuint hvVer);
}
