using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadNative(FileDescriptorHandle fd, byte* buffer, nuint count);

    /// <summary>read(2) into <paramref name="buffer"/>, retried on EINTR; 0 at the end of the file.</summary>
    /// <param name="path">Named in the exception.</param>
    public static unsafe int Read(FileDescriptorHandle fd, Span<byte> buffer, string path)
    {
        fixed (byte* b = buffer)
        {
            while (true)
            {
                var n = ReadNative(fd, b, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var e = Marshal.GetLastPInvokeError();
                if (e != ErrnoException.EINTR) throw new ErrnoException("read", path, e);
            }
        }
    }
}
