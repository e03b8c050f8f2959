using System.Security.Cryptography;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// A host root held in memory, keyed by path relative to the root ("sys/bus/pci/devices"): what `snapshot` builds
/// before writing anything, and what a written tree or archive reads back as.
/// </summary>
public sealed class HostTree
{
    private readonly SortedDictionary<string, HostTreeNode> _nodes = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, HostTreeNode> Nodes => _nodes;

    public void Set(string path, HostTreeNode node)
    {
        ValidatePath(path);
        _nodes[path] = node;
    }

    public bool Contains(string path) => _nodes.ContainsKey(path);

    /// <summary>Adds the directory and every directory above it.</summary>
    public void AddDirectory(string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
        {
            if (_nodes.TryGetValue(p, out var existing) && existing.Type == ManifestEntryType.Directory) break;
            _nodes[p] = new HostTreeNode(ManifestEntryType.Directory, "/" + p);
        }
    }

    public static string Parent(string path) => path.LastIndexOf('/') is var i and > 0 ? path[..i] : "";

    public SnapshotManifest ToManifest(IReadOnlyList<SkippedPath> skipped, bool redacted) => new(
        SnapshotManifest.CurrentFormat,
        redacted,
        [.. _nodes.Select(kv => Describe(kv.Key, kv.Value))],
        skipped);

    public static ManifestEntry Describe(string path, HostTreeNode n) => n.Type switch
    {
        ManifestEntryType.File => new ManifestEntry(path, n.Source, n.Type, n.Content!.LongLength, Sha256(n.Content!), Redacted: n.Redacted ? true : null),
        ManifestEntryType.Link => new ManifestEntry(path, n.Source, n.Type, Target: n.Target),
        _ => new ManifestEntry(path, n.Source, n.Type),
    };

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Relative, no "." or ".." component, no empty component: a path that cannot leave the root.</summary>
    /// <exception cref="SnapshotException"/>
    public static void ValidatePath(string path)
    {
        if (path.Length == 0 || path.StartsWith('/') || path.Split('/').Any(c => c is "" or "." or ".."))
        {
            throw new SnapshotException($"'{path}' is not a path inside a host root.");
        }
    }

    /// <summary>Whether a link at <paramref name="path"/> with this relative target stays inside the root.</summary>
    public static bool TargetStaysInside(string path, string target)
    {
        if (target.StartsWith('/')) return false;
        var depth = path.Count(c => c == '/');
        foreach (var c in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (c == "..") depth--;
            else if (c != ".") depth++;
            if (depth < 0) return false;
        }
        return true;
    }

    /// <summary>
    /// Writes the tree into <paramref name="directory"/>, which must be new or empty; the manifest last, so a tree
    /// without one is not a snapshot. A failed write removes what it wrote.
    /// </summary>
    /// <exception cref="SnapshotException">The directory exists and is not empty.</exception>
    public void WriteDirectory(string directory, SnapshotManifest manifest)
    {
        var root = Path.GetFullPath(directory);
        RefuseNonEmpty(root);
        var existed = Directory.Exists(root);
        Directory.CreateDirectory(root);
        try
        {
            WriteEntries(root, manifest);
        }
        catch
        {
            // Deleting never follows the links written, so nothing outside the directory is touched.
            if (existed)
            {
                foreach (var e in new DirectoryInfo(root).EnumerateFileSystemInfos())
                {
                    if (e is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
                    else e.Delete();
                }
            }
            else
            {
                Directory.Delete(root, recursive: true);
            }
            throw;
        }
    }

    private void WriteEntries(string root, SnapshotManifest manifest)
    {
        foreach (var (path, node) in _nodes)
        {
            // Every path was validated and links are created, never followed, so nothing lands outside the root.
            var full = Path.Join(root, path);
            switch (node.Type)
            {
                case ManifestEntryType.Directory:
                    Directory.CreateDirectory(full);
                    break;
                case ManifestEntryType.File:
                    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                    using (var f = new FileStream(full, FileMode.CreateNew, FileAccess.Write))
                    {
                        f.Write(node.Content);
                    }
                    break;
                case ManifestEntryType.Link:
                    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                    File.CreateSymbolicLink(full, node.Target!);
                    break;
            }
        }
        using var m = new FileStream(Path.Join(root, SnapshotManifest.FileName), FileMode.CreateNew, FileAccess.Write);
        m.Write(manifest.ToJsonBytes());
    }

    /// <exception cref="SnapshotException"/>
    public static void RefuseNonEmpty(string target)
    {
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new SnapshotException($"{target} exists and is not empty; a snapshot is written into a new or empty directory.");
        }
        if (File.Exists(target))
        {
            throw new SnapshotException($"{target} is a file; give a new directory or FILE.tar.zst.");
        }
    }

    /// <summary>
    /// Reads a directory tree without following any symlink; <see cref="SnapshotManifest.FileName"/> at the top is
    /// not part of the tree. Anything but directories, regular files and links is reported in <paramref name="strange"/>.
    /// </summary>
    public static HostTree ReadDirectory(string directory, List<string> strange)
    {
        var tree = new HostTree();
        var root = new DirectoryInfo(Path.GetFullPath(directory));
        var pending = new Stack<DirectoryInfo>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var e in dir.EnumerateFileSystemInfos())
            {
                var rel = Path.GetRelativePath(root.FullName, e.FullName).Replace('\\', '/');
                if (rel == SnapshotManifest.FileName) continue;
                if (e.LinkTarget is { } target)
                {
                    tree._nodes[rel] = new HostTreeNode(ManifestEntryType.Link, "/" + rel, Target: target);
                }
                else if (e is DirectoryInfo d)
                {
                    tree._nodes[rel] = new HostTreeNode(ManifestEntryType.Directory, "/" + rel);
                    pending.Push(d);
                }
                else if (e is FileInfo f && IsRegular(f))
                {
                    tree._nodes[rel] = new HostTreeNode(ManifestEntryType.File, "/" + rel, File.ReadAllBytes(f.FullName));
                }
                else
                {
                    strange.Add(rel);
                }
            }
        }
        return tree;
    }

    private static readonly HostRoot System = HostRoot.Production;

    private static bool IsRegular(FileInfo f) => System.IsRegularFile(f.FullName);
}
