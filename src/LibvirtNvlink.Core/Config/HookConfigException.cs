namespace LibvirtNvlink.Config;

/// <summary>The hook's configuration cannot be used: unreadable, untrusted, not well-formed or not valid. Names the file and the fix.</summary>
public sealed class HookConfigException(string path, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Path { get; } = path;
}
