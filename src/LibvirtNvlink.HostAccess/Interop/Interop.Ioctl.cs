using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>ioctl with an integer argument (or none), result returned; errno turned into an exception.</summary>
    public static int IoctlValue(FileDescriptorHandle fd, uint request, int argument, string what)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var raw = (int)fd.DangerousGetHandle();
            var r = ioctl(raw, unchecked((int)request), argument);
            if (r < 0) throw new ErrnoException($"ioctl {what}", $"fd {raw}", errno);
            return r;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>ioctl with a pointer to a buffer the kernel reads and fills.</summary>
    public static unsafe int IoctlBuffer(FileDescriptorHandle fd, uint request, Span<byte> buffer, string what)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var raw = (int)fd.DangerousGetHandle();
            fixed (byte* b = buffer)
            {
                var r = ioctl(raw, unchecked((int)request), b);
                if (r < 0) throw new ErrnoException($"ioctl {what}", $"fd {raw}", errno);
                return r;
            }
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
