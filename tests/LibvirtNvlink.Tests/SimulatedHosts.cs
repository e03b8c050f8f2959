using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

/// <summary>Writes each built-in layout once per test run into a temporary directory.</summary>
public static class SimulatedHosts
{
    private static readonly Lazy<string> Base = new(() =>
    {
        // Inside the run's directory, so it goes when the run ends (TestRunTempCleanup).
        var dir = TestRunTemp.NewDirectory("simulated-hosts-");
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

/// <summary>Domains the hook tests assign on the simulated hosts.</summary>
public static class HookTestDomains
{
    /// <summary>
    /// On the broken host: GPU 0035:03:00.0 and its bridge 0007:00:00.0, which is on ibmnpu (IOMMU group 10), both
    /// managed='no' — with bind-managed-no the hook rebinds the bridge under the group's lock.
    /// </summary>
    public static string ManagedNoGpuWithBridgeOnIbmnpu(string name, string type = "qemu") => $"""
        <domain type='{type}'><name>{name}</name><memory unit='GiB'>4</memory>
          <os><type arch='ppc64le' machine='pseries'>hvm</type></os>
          <devices>
            <hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0035' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>
            <hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0007' bus='0x00' slot='0x00' function='0x0'/></source></hostdev>
          </devices>
        </domain>
        """;
}
