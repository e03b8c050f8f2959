namespace LibvirtNvlink.Snapshot;

/// <summary>One entry of a <see cref="HostTree"/>: a directory, a file with its bytes, or a link with its target.</summary>
public sealed record HostTreeNode(ManifestEntryType Type, string Source, byte[]? Content = null, string? Target = null, bool Redacted = false);
