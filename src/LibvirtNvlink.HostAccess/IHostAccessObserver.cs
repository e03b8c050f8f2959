namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Hears every path the readers touch under a <see cref="HostRoot"/>, before they touch it. `snapshot` records with
/// one, so it copies exactly what discovery, the preflight and explain read — not a second list that could drift
/// from the readers.
/// </summary>
public interface IHostAccessObserver
{
    /// <param name="hostPath">Host-absolute ("/sys/bus/pci/devices/…"), never outside the root.</param>
    void Accessed(string hostPath, HostAccessKind kind);
}
