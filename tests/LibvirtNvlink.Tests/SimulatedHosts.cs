using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

/// <summary>Writes each built-in layout once per test run into a temporary directory.</summary>
public static class SimulatedHosts
{
    private static readonly Lazy<string> Base = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "libvirt-nvlink-tests-" + Environment.ProcessId);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        foreach (var layout in BuiltInLayouts.All)
        {
            SimulatedHostWriter.Write(layout, Path.Combine(dir, layout.Name));
        }
        return dir;
    });

    private static readonly Dictionary<string, HostTopology> Topologies = [];

    public static string PathOf(HostLayout layout) => Path.Combine(Base.Value, layout.Name);

    public static HostTopology Topology(HostLayout layout)
    {
        lock (Topologies)
        {
            if (!Topologies.TryGetValue(layout.Name, out var t))
            {
                t = HostDiscovery.Discover(new HostRoot(PathOf(layout)));
                Topologies[layout.Name] = t;
            }
            return t;
        }
    }

    /// <summary>A fresh copy of a layout's host that a test may damage.</summary>
    public static string Fresh(HostLayout layout)
    {
        var dir = Path.Combine(Base.Value, "fresh-" + Guid.NewGuid().ToString("N"));
        SimulatedHostWriter.Write(layout, dir);
        return dir;
    }
}
