using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// An exclusive flock per IOMMU group, held while the hook changes drivers of that group's devices — at prepare and
/// at release — so two hooks for two domains sharing nothing never wait on each other and two that share a group never
/// interleave.
/// </summary>
public sealed class GroupLock : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    private GroupLock(FileDescriptorHandle fd) => _fd = fd;

    /// <summary>Where the lock of an IOMMU group lives.</summary>
    public static string PathFor(string lockDirectory, int group) =>
        Path.Combine(lockDirectory, $"iommu-group-{group.ToString(CultureInfo.InvariantCulture)}.lock");

    /// <exception cref="UntrustedFileException">The lock directory or file is not root's alone (or is a symlink).</exception>
    public static GroupLock Acquire(string lockDirectory, int group)
    {
        TrustedFiles.EnsureDirectory(lockDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = PathFor(lockDirectory, group);
        var fd = TrustedFiles.OpenLockFile(path);
        try
        {
            // Blocks while another hook changes this group; the watchdog bounds the wait.
            LibcInterop.Flock(fd, LockOperation.Exclusive, path);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
        return new GroupLock(fd);
    }

    /// <summary>Closing the descriptor releases the lock.</summary>
    public void Dispose() => _fd.Dispose();
}
