using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    public const int LOCK_EX = 2;
    public const int LOCK_UN = 8;

    /// <summary>int flock(int fd, int operation) — Tmds.LibC does not have it.</summary>
    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    /// <summary>
    /// open(O_RDWR | O_CREAT) for a lock file. Not FileStream: .NET takes a non-blocking flock of its own on every file
    /// it opens, which fails — instead of waiting — while another hook holds the lock.
    /// </summary>
    public static unsafe int OpenLockFile(string path)
    {
        var utf8 = NullTerminatedUtf8(path, stackalloc byte[512]);
        fixed (byte* p = utf8)
        {
            var fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 384 /* 0600 */);
            if (fd < 0) throw new ErrnoException("open", path, errno);
            return fd;
        }
    }
}
