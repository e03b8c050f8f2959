using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>int execv(const char *path, char *const argv[]): returns only on failure.</summary>
    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true)]
    public static unsafe partial int Execv(byte* path, byte** argv);
}
