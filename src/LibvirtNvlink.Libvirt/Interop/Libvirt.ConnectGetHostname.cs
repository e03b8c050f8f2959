using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>char *virConnectGetHostname(virConnectPtr conn): the caller frees.</summary>
    [LibraryImport(Library, EntryPoint = "virConnectGetHostname")]
    public static partial nint ConnectGetHostname(LibvirtConnectionHandle conn);
}
