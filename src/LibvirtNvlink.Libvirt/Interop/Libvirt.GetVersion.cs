using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    public const string Library = "libvirt.so.0";

    /// <summary>int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer).</summary>
    [LibraryImport(Library, EntryPoint = "virGetVersion", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GetVersion(out nuint libVer, string? type, out nuint typeVer);
}
