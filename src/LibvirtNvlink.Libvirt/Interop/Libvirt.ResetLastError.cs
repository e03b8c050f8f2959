using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>void virResetLastError(void).</summary>
    [LibraryImport(Library, EntryPoint = "virResetLastError")]
    public static partial void ResetLastError();
}
