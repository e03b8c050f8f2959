using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// The root every reader works under: "/" in production, a simulated host directory in tests and with
/// --host-root. Paths given to it are host-absolute ("/sys/bus/pci/devices"); the *At methods take the physical
/// path a reader already resolved under the root (sysfs device directories). Every read goes through here, so an
/// <see cref="IHostAccessObserver"/> hears all of them.
/// </summary>
public sealed class HostRoot
{
    /// <summary>Sysfs attributes are at most a page; device-tree properties are small. Anything bigger is not ours.</summary>
    public const int MaxFileBytes = 64 * 1024;

    public HostRoot(string root, IHostAccessObserver? observer = null)
    {
        var full = Path.GetFullPath(root);
        Root = full.Length > 1 ? full.TrimEnd('/') : "/";
        Observer = observer;
    }

    public static HostRoot Production { get; } = new("/");

    public string Root { get; }

    public bool IsSystemRoot => Root == "/";

    public IHostAccessObserver? Observer { get; }

    public string Map(string hostPath) => IsSystemRoot ? hostPath : Root + hostPath;

    /// <summary>The host path of a physical path under this root; null when it lies outside.</summary>
    public string? HostPathOf(string physicalPath)
    {
        if (IsSystemRoot) return physicalPath;
        if (physicalPath == Root) return "/";
        return physicalPath.StartsWith(Root + "/", StringComparison.Ordinal) ? physicalPath[Root.Length..] : null;
    }

    /// <exception cref="IOException">Exists but cannot be read; the message names the path.</exception>
    public byte[]? ReadBytes(string hostPath) => ReadBytesAt(Map(hostPath));

    /// <summary>The non-blocking read capped at <paramref name="maxBytes"/> every reader uses (O_NONBLOCK, see
    /// <see cref="LibcInterop.ReadSmallFile"/>); larger caps only for files that are known to be larger.</summary>
    /// <exception cref="IOException">Exists but cannot be read, or is larger than the cap.</exception>
    public byte[]? ReadBytesAt(string physicalPath, int maxBytes = MaxFileBytes)
    {
        Observe(physicalPath, HostAccessKind.Content);
        return LibcInterop.ReadSmallFile(physicalPath, maxBytes);
    }

    public string? ReadText(string hostPath) => ReadTextAt(Map(hostPath));

    public string? ReadTextAt(string physicalPath) =>
        ReadBytesAt(physicalPath) is { } b ? System.Text.Encoding.UTF8.GetString(b).Trim() : null;

    public bool IsSymlink(string hostPath) => ReadLinkAt(Map(hostPath)) is not null;

    /// <summary>readlink(2) of the last component: its target text, or null when it is not a symlink or absent.</summary>
    /// <exception cref="ErrnoException">Anything but "not a link" and "absent".</exception>
    public string? ReadLinkAt(string physicalPath)
    {
        Observe(physicalPath, HostAccessKind.LinkText);
        try
        {
            return LibcInterop.ReadLink(physicalPath);
        }
        catch (ErrnoException e) when (e.Errno is ErrnoException.ENOENT or ErrnoException.ENOTDIR)
        {
            return null;
        }
    }

    /// <summary>Existence with symlinks followed, like libvirt's virFileExists (access(F_OK)).</summary>
    public bool Exists(string hostPath) => ExistsAt(Map(hostPath));

    public bool ExistsAt(string physicalPath)
    {
        Observe(physicalPath, HostAccessKind.Resolve);
        return LibcInterop.Exists(physicalPath);
    }

    /// <summary>A directory, symlinks followed.</summary>
    public bool IsDirectory(string hostPath)
    {
        var p = Map(hostPath);
        Observe(p, HostAccessKind.Resolve);
        return Directory.Exists(p);
    }

    /// <summary>The file type bits (S_IFMT) of a path, symlinks followed, or null when it does not exist.</summary>
    public int? FileType(string hostPath)
    {
        var p = Map(hostPath);
        Observe(p, HostAccessKind.Resolve);
        return LibcInterop.FileType(p);
    }

    /// <summary>A regular file, symlinks followed: not a directory, device, FIFO or socket.</summary>
    public bool IsRegularFile(string hostPath) => FileType(hostPath) == LibcInterop.S_IFREG;

    /// <exception cref="ErrnoException">ENOENT (dangling), ELOOP (loop), …</exception>
    public string RealPath(string hostPath)
    {
        var p = Map(hostPath);
        Observe(p, HostAccessKind.Resolve);
        return LibcInterop.RealPath(p);
    }

    /// <inheritdoc cref="SymlinkResolver.ResolveLast"/>
    public string ResolveLastAt(string physicalPath)
    {
        Observe(physicalPath, HostAccessKind.Resolve);
        return SymlinkResolver.ResolveLast(physicalPath);
    }

    public IEnumerable<string> ListNames(string hostPath)
    {
        var p = Map(hostPath);
        Observe(p, HostAccessKind.Listing);
        if (!Directory.Exists(p)) return [];
        return Directory.EnumerateFileSystemEntries(p).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
    }

    /// <summary>The subdirectories of a directory, never symlinks to one; empty when it cannot be listed.</summary>
    public List<string> ListSubdirectories(string hostPath)
    {
        var p = Map(hostPath);
        Observe(p, HostAccessKind.Listing);
        // d_type from getdents says directory or symlink without a stat per entry; following a symlinked directory
        // could loop forever.
        var children = new System.IO.Enumeration.FileSystemEnumerable<string>(
            p,
            (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(),
            new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
        {
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => e.IsDirectory,
        };
        try { return [.. children]; }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    private void Observe(string physicalPath, HostAccessKind kind)
    {
        if (Observer is not null && HostPathOf(physicalPath) is { } hostPath) Observer.Accessed(hostPath, kind);
    }
}
