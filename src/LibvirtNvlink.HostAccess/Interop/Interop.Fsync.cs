using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(FileDescriptorHandle fd);

    /// <summary>fsync(2): the data is on disk before the rename that publishes it.</summary>
    public static void Fsync(FileDescriptorHandle fd, string path)
    {
        if (FsyncNative(fd) != 0) throw new ErrnoException("fsync", path, Marshal.GetLastPInvokeError());
    }
}
