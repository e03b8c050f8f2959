using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virEventRegisterDefaultImpl(void).</summary>
    [LibraryImport(Library, EntryPoint = "virEventRegisterDefaultImpl")]
    public static partial int EventRegisterDefaultImpl();
}
