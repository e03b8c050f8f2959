using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virEventRemoveTimeout(int timer).</summary>
    [LibraryImport(Library, EntryPoint = "virEventRemoveTimeout")]
    public static partial int EventRemoveTimeout(int timer);
}
