using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// An exclusive flock per IOMMU group, held while the hook changes drivers of that group's devices, so two hooks
/// for two domains sharing nothing never wait on each other and two that share a group never interleave.
/// </summary>
public sealed class GroupLock : IDisposable
{
    private const int EINTR = 4;
    private readonly int _fd;

    private GroupLock(int fd) => _fd = fd;

    public static GroupLock Acquire(string lockDirectory, int group)
    {
        Directory.CreateDirectory(lockDirectory);
        var path = Path.Combine(lockDirectory, $"iommu-group-{group.ToString(CultureInfo.InvariantCulture)}.lock");
        var fd = LibcInterop.OpenLockFile(path);
        // Blocks while another hook changes this group; the watchdog bounds the wait.
        while (LibcInterop.Flock(fd, LibcInterop.LOCK_EX) != 0)
        {
            var e = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (e == EINTR) continue;
            LibcInterop.CloseFd(fd);
            throw new ErrnoException("flock", path, e);
        }
        return new GroupLock(fd);
    }

    public void Dispose()
    {
        _ = LibcInterop.Flock(_fd, LibcInterop.LOCK_UN);
        LibcInterop.CloseFd(_fd);
    }
}
