using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    public const int LOCK_EX = 2;
    public const int LOCK_UN = 8;

    /// <summary>int flock(int fd, int operation) — Tmds.LibC does not have it.</summary>
    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}
