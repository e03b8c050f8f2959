using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>The kernel's own resolution of every symlink on the path (what a relative of_node link means).</summary>
    /// <exception cref="ErrnoException">ENOENT for a dangling link, ELOOP for a loop, …</exception>
    public static string RealPath(string path)
    {
        var p = RealPathNative(path, 0);
        if (p == 0)
        {
            throw new ErrnoException("realpath", path, Marshal.GetLastPInvokeError());
        }
        try
        {
            return Marshal.PtrToStringUTF8(p)!;
        }
        finally
        {
            Free(p);
        }
    }
}
