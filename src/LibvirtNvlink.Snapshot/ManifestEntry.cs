namespace LibvirtNvlink.Snapshot;

/// <summary>
/// One entry of a host root. <paramref name="Path"/> is relative to the root ("sys/bus/pci/devices/…");
/// <paramref name="Source"/> is where it came from (the host path, or the VFIO call a recording answers).
/// Files carry their size and SHA-256 (lower-case hex), links their target (always relative).
/// </summary>
public sealed record ManifestEntry(
    string Path,
    string Source,
    ManifestEntryType Type,
    long? Size = null,
    string? Sha256 = null,
    string? Target = null,
    bool? Redacted = null);
