using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>open(2) with O_CLOEXEC added, errno turned into an exception naming the path.</summary>
    private static unsafe int OpenOrThrow(string path, int flags, uint mode)
    {
        var utf8 = NullTerminatedUtf8(path, stackalloc byte[512]);
        fixed (byte* p = utf8)
        {
            var fd = open(p, flags | O_CLOEXEC, (mode_t)mode);
            if (fd < 0) throw new ErrnoException("open", path, errno);
            return fd;
        }
    }

    /// <summary>open(2) for device nodes; the descriptor is closed when the handle is disposed.</summary>
    public static FileDescriptorHandle OpenDevice(string path, bool readWrite) => new(OpenOrThrow(path, readWrite ? O_RDWR : O_RDONLY, 0));
}
