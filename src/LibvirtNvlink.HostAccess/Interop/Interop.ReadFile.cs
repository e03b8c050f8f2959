using System.Buffers;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    private const int Page = 4096;

    /// <summary>
    /// Reads a small file (sysfs attribute, device-tree property) without ever blocking: O_NONBLOCK means a FIFO
    /// planted where a property should be cannot hang libvirtd's hook, and the size cap stops a character device.
    /// </summary>
    /// <remarks>
    /// Discovery reads hundreds of these per run, so each costs open, one read and close: a read asked for at most a
    /// page that comes back short is the end of the file for everything this reads — regular files are short only
    /// at EOF, sysfs attributes come whole in one read, and binary attributes (device-tree properties) hand out at
    /// most a page per read, which is why a request larger than a page is always followed up.
    /// </remarks>
    /// <returns>The bytes, or null when the path does not exist.</returns>
    public static unsafe byte[]? ReadSmallFile(string path, int maxBytes)
    {
        int fd;
        var utf8 = NullTerminatedUtf8(path, stackalloc byte[512]);
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
        var buffer = ArrayPool<byte>.Shared.Rent(Page);
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
                var request = buffer.Length - total;
                ssize_t n;
                fixed (byte* b = &buffer[total])
                {
                    n = read(fd, b, request);
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
                total += (int)n;
                if (total > maxBytes)
                {
                    throw new IOException($"{path}: larger than {maxBytes} bytes, not a plausible attribute or property");
                }
                if (n == 0 || (n < request && request <= Page)) break;
            }
            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _ = close(fd);
        }
    }

    /// <summary>The path as the C string a syscall takes, in <paramref name="scratch"/> when it fits.</summary>
    private static Span<byte> NullTerminatedUtf8(string path, Span<byte> scratch)
    {
        var needed = Encoding.UTF8.GetMaxByteCount(path.Length) + 1;
        var target = needed <= scratch.Length ? scratch : new byte[needed];
        var length = Encoding.UTF8.GetBytes(path, target);
        target[length] = 0;
        return target[..(length + 1)];
    }
}
