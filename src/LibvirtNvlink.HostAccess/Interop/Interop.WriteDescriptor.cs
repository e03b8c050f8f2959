using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteNative(FileDescriptorHandle fd, byte* buffer, nuint count);

    /// <summary>write(2) of all of <paramref name="bytes"/>, continuing after short writes and EINTR.</summary>
    public static unsafe void WriteAll(FileDescriptorHandle fd, ReadOnlySpan<byte> bytes, string path)
    {
        fixed (byte* b = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var n = WriteNative(fd, b + done, (nuint)(bytes.Length - done));
                if (n >= 0)
                {
                    done += (int)n;
                    continue;
                }
                var e = Marshal.GetLastPInvokeError();
                if (e != ErrnoException.EINTR) throw new ErrnoException("write", path, e);
            }
        }
    }
}
