namespace LibvirtNvlink.HostAccess;

/// <summary>
/// A file or directory the hook will not trust: a symlink where its own file should be, a FIFO or device, too large,
/// or one that someone other than root could have written. The message names the path, what is wrong and the fix.
/// </summary>
public sealed class UntrustedFileException(string path, string problem, string fix)
    : IOException($"refusing {path}: {problem}. Fix: {fix}")
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;

    public string Fix { get; } = fix;
}
