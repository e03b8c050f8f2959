using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Pci;

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

    /// <summary>
    /// Where the lock of a device without an IOMMU group lives: such devices share no group, so each has a lock of its
    /// own (one shared "group -1" lock would make unrelated devices wait on each other).
    /// </summary>
    public static string PathFor(string lockDirectory, PciAddress device) => Path.Combine(lockDirectory, $"device-{device}.lock");

    /// <summary>Devices sharing this key share a lock: their IOMMU group, or the device itself when it has none.</summary>
    public static (int? Group, PciAddress? Alone) KeyOf(int? group, PciAddress device) => (group, group is null ? device : null);

    /// <summary>The lock for <paramref name="device"/>: its IOMMU group's, or its own when it has no group.</summary>
    /// <exception cref="UntrustedFileException">The lock directory or file is not root's alone (or is a symlink).</exception>
    public static GroupLock Acquire(string lockDirectory, int? group, PciAddress device) =>
        AcquireAt(lockDirectory, group is { } g ? PathFor(lockDirectory, g) : PathFor(lockDirectory, device));

    /// <exception cref="UntrustedFileException">The lock directory or file is not root's alone (or is a symlink).</exception>
    public static GroupLock Acquire(string lockDirectory, int group) => AcquireAt(lockDirectory, PathFor(lockDirectory, group));

    private static GroupLock AcquireAt(string lockDirectory, string path)
    {
        TrustedFiles.EnsureDirectory(lockDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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
