namespace LibvirtNvlink.HostAccess;

/// <summary>An undo record the hook will not act on (or a change it could not record); the message names the file and the fix.</summary>
public sealed class UndoRecordException(string path, string message) : IOException(message)
{
    public string Path { get; } = path;
}
