using System.Text;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    private const int EINVAL_ = 22;

    /// <summary>readlink(2): the link's target, or null when the path is not a symlink (EINVAL).</summary>
    public static unsafe string? ReadLink(string path)
    {
        var utf8 = NullTerminatedUtf8(path, stackalloc byte[512]);
        var buffer = stackalloc byte[4096];
        fixed (byte* p = utf8)
        {
            var n = readlink(p, buffer, 4096);
            if (n < 0)
            {
                var e = errno;
                if (e == EINVAL_) return null;
                throw new ErrnoException("readlink", path, e);
            }
            return Encoding.UTF8.GetString(buffer, (int)n);
        }
    }
}
