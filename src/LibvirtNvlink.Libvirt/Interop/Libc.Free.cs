using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>Strings libvirt returns to the caller are malloc'd: released with libc free.</summary>
    [LibraryImport("libc", EntryPoint = "free")]
    public static partial void Free(nint pointer);

    public static string? TakeString(nint pointer)
    {
        if (pointer == 0) return null;
        try { return Marshal.PtrToStringUTF8(pointer); }
        finally { Free(pointer); }
    }
}
