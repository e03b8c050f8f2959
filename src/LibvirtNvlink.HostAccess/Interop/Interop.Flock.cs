using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(FileDescriptorHandle fd, int operation);

    /// <summary>flock(2), retried on EINTR (a blocking lock wait is interruptible); errno turned into an exception naming the path.</summary>
    public static void Flock(FileDescriptorHandle fd, LockOperation operation, string path)
    {
        while (FlockNative(fd, (int)operation) != 0)
        {
            var e = Marshal.GetLastPInvokeError();
            if (e != ErrnoException.EINTR) throw new ErrnoException("flock", path, e);
        }
    }
}
