namespace LibvirtNvlink.Snapshot;

/// <summary>
/// `snapshot --verify`: a host root (directory or .tar.zst) against its MANIFEST.json — every entry present with
/// its type, size, SHA-256 and link target, nothing extra, no link leading outside the root.
/// </summary>
public static class SnapshotVerifier
{
    /// <returns>The problems found, one line each, in path order; empty when the snapshot is intact.</returns>
    /// <exception cref="SnapshotException">Not a snapshot at all: no such path, no manifest, not an archive.</exception>
    public static IReadOnlyList<string> Verify(string path)
    {
        var strange = new List<string>();
        HostTree tree;
        byte[]? manifestBytes;
        if (Directory.Exists(path))
        {
            tree = HostTree.ReadDirectory(path, strange);
            var m = Path.Join(path, SnapshotManifest.FileName);
            manifestBytes = File.Exists(m) ? File.ReadAllBytes(m) : null;
        }
        else if (File.Exists(path))
        {
            (tree, manifestBytes) = SnapshotArchive.Read(path, strange);
        }
        else
        {
            throw new SnapshotException($"{path} does not exist.");
        }
        if (manifestBytes is null) throw new SnapshotException($"{path} has no {SnapshotManifest.FileName}: not a snapshot.");
        var manifest = SnapshotManifest.Parse(manifestBytes, $"{path}/{SnapshotManifest.FileName}");
        return Compare(manifest, tree, strange);
    }

    public static IReadOnlyList<string> Compare(SnapshotManifest manifest, HostTree tree, IReadOnlyList<string> strange)
    {
        var problems = new List<(string Path, string Problem)>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var expected in manifest.Entries)
        {
            listed.Add(expected.Path);
            if (!tree.Nodes.TryGetValue(expected.Path, out var node))
            {
                problems.Add((expected.Path, $"{expected.Path}: missing (the manifest lists a {Name(expected.Type)})"));
                continue;
            }
            var actual = HostTree.Describe(expected.Path, node);
            if (actual.Type != expected.Type)
            {
                problems.Add((expected.Path, $"{expected.Path}: is a {Name(actual.Type)}, the manifest lists a {Name(expected.Type)}"));
            }
            else if (actual.Type == ManifestEntryType.File && (actual.Size != expected.Size || actual.Sha256 != expected.Sha256))
            {
                problems.Add((expected.Path, $"{expected.Path}: changed ({actual.Size} bytes, SHA-256 {actual.Sha256}; the manifest says {expected.Size} bytes, {expected.Sha256})"));
            }
            else if (actual.Type == ManifestEntryType.Link && actual.Target != expected.Target)
            {
                problems.Add((expected.Path, $"{expected.Path}: links to {actual.Target}, the manifest says {expected.Target}"));
            }
        }
        foreach (var (path, node) in tree.Nodes)
        {
            if (!listed.Contains(path)) problems.Add((path, $"{path}: not in the manifest (an extra {Name(node.Type)})"));
            if (node.Type == ManifestEntryType.Link && !HostTree.TargetStaysInside(path, node.Target!))
            {
                problems.Add((path, $"{path}: links to {node.Target}, outside the host root"));
            }
        }
        foreach (var s in strange) problems.Add((s, $"{s}: not a directory, regular file or symlink"));
        return [.. problems.OrderBy(p => p.Path, StringComparer.Ordinal).Select(p => p.Problem)];
    }

    private static string Name(ManifestEntryType t) => t switch
    {
        ManifestEntryType.Directory => "directory",
        ManifestEntryType.Link => "symlink",
        _ => "file",
    };
}
