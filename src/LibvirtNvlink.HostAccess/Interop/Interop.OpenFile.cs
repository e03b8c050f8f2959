using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags, uint mode);

    /// <summary>open(2) with O_CLOEXEC added; errno turned into an exception naming the path.</summary>
    /// <param name="createMode">The mode a file created here gets (before the umask).</param>
    public static FileDescriptorHandle OpenFile(string path, OpenFlags flags, UnixFileMode createMode = 0)
    {
        while (true)
        {
            var fd = OpenNative(path, OpenFlagsNative.ToNative(flags | OpenFlags.CloseOnExec), (uint)createMode);
            if (fd >= 0) return new FileDescriptorHandle(fd);
            var e = Marshal.GetLastPInvokeError();
            if (e != ErrnoException.EINTR) throw new ErrnoException("open", path, e);
        }
    }
}
