namespace LibvirtNvlink.Snapshot;

/// <summary>A snapshot cannot be written or read as asked (an existing target, not a snapshot): nothing was written.</summary>
public sealed class SnapshotException(string message, Exception? inner = null) : Exception(message, inner);
