using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>statx(2) of a path without following a final symlink (lstat), or null when it does not exist.</summary>
    public static unsafe FileStatus? StatusNoFollow(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (StatxNative(AT_FDCWD, path, AtSymlinkNoFollow, StatxTypeModeUidSize, buffer) != 0)
        {
            var e = Marshal.GetLastPInvokeError();
            if (e is ErrnoException.ENOENT or ErrnoException.ENOTDIR) return null;
            throw new ErrnoException("statx", path, e);
        }
        return DecodeStatx(buffer);
    }
}
