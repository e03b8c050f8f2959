using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virConnectPtr virConnectOpen(const char *name).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectOpen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ConnectOpen(string? name);
}
