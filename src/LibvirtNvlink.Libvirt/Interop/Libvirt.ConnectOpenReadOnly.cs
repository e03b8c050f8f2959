using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virConnectPtr virConnectOpenReadOnly(const char *name).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectOpenReadOnly", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ConnectOpenReadOnly(string? name);
}
