using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    internal const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 1;

    /// <summary>struct statx is the same on every architecture, unlike struct stat; stx_mode is a u16 at 28.</summary>
    public const int StatxSize = 256;
    public const int StatxModeOffset = 28;
    public const int S_IFMT = 0xF000;
    public const int S_IFCHR = 0x2000;
    public const int S_IFREG = 0x8000;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The file type bits (S_IFMT) of a path, following symlinks, or null when it does not exist.</summary>
    public static unsafe int? FileType(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (StatxNative(AT_FDCWD, path, 0, STATX_TYPE, buffer) != 0)
        {
            var e = Marshal.GetLastPInvokeError();
            if (e is ErrnoException.ENOENT or ErrnoException.ENOTDIR) return null;
            throw new ErrnoException("statx", path, e);
        }
        return *(ushort*)(buffer + StatxModeOffset) & S_IFMT;
    }
}
