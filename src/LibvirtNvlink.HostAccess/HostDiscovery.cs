using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess;

/// <summary>The host root cannot be read at all (no sysfs PCI tree): a usage problem, not a finding.</summary>
public sealed class HostRootException(string message) : Exception(message);

/// <summary>Reads one host into a <see cref="HostTopology"/>.</summary>
public static class HostDiscovery
{
    public static HostTopology Discover(HostRoot root) => Discover(root, null);

    /// <summary>Discovery limited to the devices <paramref name="interesting"/> accepts and their IOMMU groups.</summary>
    /// <param name="ids">IDs this run has already read, when the caller keeps them.</param>
    public static HostTopology Discover(HostRoot root, Func<int, int, bool>? interesting, PciIdMemo? ids = null)
    {
        if (!root.IsDirectory(PciSysfsReader.DevicesPath))
        {
            throw new HostRootException(
                $"{root.Map(PciSysfsReader.DevicesPath)} does not exist: '{root.Root}' is not a host root " +
                "(give / or a directory made by 'libvirt-nvlink simulate-host').");
        }
        var findings = new List<Finding>();
        var devices = PciSysfsReader.ReadAll(root, findings, interesting, ids);
        var dt = SysfsDeviceTree.IsPresent(root)
            ? new SysfsDeviceTree(root, [.. devices.Select(d => d.OfNode).OfType<string>()])
            : null;
        var numa = new NumaMemoryReader(root);
        // NUMA nodes, the kernel and drivers matter only for Grace GPUs; NVLink2 hosts and the hook skip the reads.
        var hasGrace = devices.Any(d => Pci.PciIds.IsGraceGpuId(d.Vendor, d.Device));
        var (srat, sratUnreadable) = hasGrace ? PlatformReader.ReadSrat(root) : (null, null);
        var kernel = hasGrace ? PlatformReader.KernelRelease(root) : null;
        return TopologyBuilder.Build(new HostFacts(devices, dt, numa.NodeHasOnlineMemory, findings,
            hasGrace ? numa.ReadNodes(findings) : null,
            kernel,
            name => root.Exists($"/sys/bus/pci/drivers/{name}"),
            srat, sratUnreadable,
            // Only the transform's choice of layout needs it; the hook's scoped discovery skips the kernel config.
            hasGrace && interesting is null ? GraceSupportReader.Read(root, kernel) : null));
    }
}
