using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virEventRunDefaultImpl(void): runs one iteration of the event loop.</summary>
    [LibraryImport(Library, EntryPoint = "virEventRunDefaultImpl")]
    public static partial int EventRunDefaultImpl();
}
