namespace LibvirtNvlink.Snapshot;

/// <summary>Something a reader touched that the snapshot did not copy, and why.</summary>
public sealed record SkippedPath(string Source, string Reason);
