using System.Buffers;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>
    /// Reads a small file (sysfs attribute, device-tree property) without ever blocking: O_NONBLOCK means a FIFO
    /// planted where a property should be cannot hang libvirtd's hook, and the size cap stops a character device.
    /// </summary>
    /// <returns>The bytes, or null when the path does not exist.</returns>
    public static unsafe byte[]? ReadSmallFile(string path, int maxBytes)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = utf8)
        {
            fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
        }
        if (fd < 0)
        {
            var e = errno;
            if (e is ErrnoException.ENOENT or ErrnoException.ENOTDIR) return null;
            throw new ErrnoException("open", path, e);
        }
        // Nearly every attribute fits one pooled page; only large properties grow the buffer.
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (total > maxBytes)
                    {
                        throw new IOException($"{path}: larger than {maxBytes} bytes, not a plausible attribute or property");
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, total).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                ssize_t n;
                fixed (byte* b = &buffer[total])
                {
                    n = read(fd, b, buffer.Length - total);
                }
                if (n < 0)
                {
                    var e = errno;
                    if (e == EINTR) continue;
                    if (e == ErrnoException.EAGAIN)
                    {
                        throw new IOException($"{path}: not a regular file (reading it would block)");
                    }
                    throw new ErrnoException("read", path, e);
                }
                if (n == 0) break;
                total += (int)n;
                if (total > maxBytes)
                {
                    throw new IOException($"{path}: larger than {maxBytes} bytes, not a plausible attribute or property");
                }
            }
            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _ = close(fd);
        }
    }
}
