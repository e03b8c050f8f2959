using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// The root every reader works under: "/" in production, a simulated host directory in tests and with
/// --host-root. Paths given to it are host-absolute ("/sys/bus/pci/devices").
/// </summary>
public sealed class HostRoot
{
    /// <summary>Sysfs attributes are at most a page; device-tree properties are small. Anything bigger is not ours.</summary>
    public const int MaxFileBytes = 64 * 1024;

    public HostRoot(string root)
    {
        var full = Path.GetFullPath(root);
        Root = full.Length > 1 ? full.TrimEnd('/') : "/";
    }

    public static HostRoot Production { get; } = new("/");

    public string Root { get; }

    public bool IsSystemRoot => Root == "/";

    public string Map(string hostPath) => IsSystemRoot ? hostPath : Root + hostPath;

    /// <exception cref="IOException">Exists but cannot be read; the message names the path.</exception>
    public byte[]? ReadBytes(string hostPath) => LibcInterop.ReadSmallFile(Map(hostPath), MaxFileBytes);

    public string? ReadText(string hostPath) =>
        ReadBytes(hostPath) is { } b ? System.Text.Encoding.UTF8.GetString(b).Trim() : null;

    public bool IsSymlink(string hostPath) => new FileInfo(Map(hostPath)).LinkTarget is not null;

    /// <summary>Existence with symlinks followed, like libvirt's virFileExists (access(F_OK)).</summary>
    public bool Exists(string hostPath) => LibcInterop.Exists(Map(hostPath));

    /// <exception cref="ErrnoException">ENOENT (dangling), ELOOP (loop), …</exception>
    public string RealPath(string hostPath) => LibcInterop.RealPath(Map(hostPath));

    public IEnumerable<string> ListNames(string hostPath)
    {
        var p = Map(hostPath);
        if (!Directory.Exists(p)) return [];
        return Directory.EnumerateFileSystemEntries(p).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
    }
}
