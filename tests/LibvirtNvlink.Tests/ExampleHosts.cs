using LibvirtNvlink.Snapshot;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The host roots under examples/hosts: every directory with a MANIFEST.json — the bundled simulated hosts and any
/// real host's snapshot dropped in next to them.
/// </summary>
public static class ExampleHosts
{
    private static readonly Lock Restoring = new();

    public static string Directory => Path.Combine(CliRunner.RepoRoot, "examples", "hosts");

    public static IReadOnlyList<string> Names() =>
        [.. System.IO.Directory.EnumerateDirectories(Directory)
            .Where(d => File.Exists(Path.Combine(d, SnapshotManifest.FileName)))
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    public static TheoryData<string> All() => [.. Names()];

    /// <summary>
    /// The host's directory, with the empty directories its manifest lists made again: git keeps no empty
    /// directory, and "this directory exists" is something a reader may have read (a loaded driver, say).
    /// </summary>
    public static string PathOf(string name)
    {
        var dir = Path.Combine(Directory, name);
        var manifest = SnapshotManifest.Parse(File.ReadAllBytes(Path.Combine(dir, SnapshotManifest.FileName)), name);
        lock (Restoring)
        {
            foreach (var e in manifest.Entries.Where(e => e.Type == ManifestEntryType.Directory))
            {
                System.IO.Directory.CreateDirectory(Path.Combine(dir, e.Path));
            }
        }
        return dir;
    }
}
