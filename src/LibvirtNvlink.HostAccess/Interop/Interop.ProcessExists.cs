using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    private const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    /// <summary>kill(pid, 0): whether a process with this id exists (EPERM means it does, and is someone else's).</summary>
    public static bool ProcessExists(int pid) => pid > 0 && (KillNative(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH);
}
