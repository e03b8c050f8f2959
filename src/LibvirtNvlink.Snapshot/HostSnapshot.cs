namespace LibvirtNvlink.Snapshot;

/// <summary>A captured host: the tree, what was skipped, whether it was redacted.</summary>
public sealed record HostSnapshot(HostTree Tree, IReadOnlyList<SkippedPath> Skipped, bool Redacted)
{
    public SnapshotManifest Manifest() => Tree.ToManifest(Skipped, Redacted);
}
