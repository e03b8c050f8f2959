using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Snapshot;

/// <summary>Remembers every path the readers touched and how, in the order they first did.</summary>
public sealed class HostAccessRecorder : IHostAccessObserver
{
    private readonly HashSet<(string, HostAccessKind)> _seen = [];
    private readonly List<(string Path, HostAccessKind Kind)> _accesses = [];

    public IReadOnlyList<(string Path, HostAccessKind Kind)> Accesses => _accesses;

    public void Accessed(string hostPath, HostAccessKind kind)
    {
        if (_seen.Add((hostPath, kind))) _accesses.Add((hostPath, kind));
    }
}
