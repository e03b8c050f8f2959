using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    public static void CloseFd(int fd) => _ = close(fd);

    /// <summary>ioctl with an integer argument (or none), result returned; errno turned into an exception.</summary>
    public static int IoctlValue(int fd, uint request, int argument, string what)
    {
        var r = ioctl(fd, unchecked((int)request), argument);
        if (r < 0) throw new ErrnoException($"ioctl {what}", $"fd {fd}", errno);
        return r;
    }

    /// <summary>ioctl with a pointer to a buffer the kernel reads and fills.</summary>
    public static unsafe int IoctlBuffer(int fd, uint request, Span<byte> buffer, string what)
    {
        fixed (byte* b = buffer)
        {
            var r = ioctl(fd, unchecked((int)request), b);
            if (r < 0) throw new ErrnoException($"ioctl {what}", $"fd {fd}", errno);
            return r;
        }
    }
}
