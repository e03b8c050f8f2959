using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Memlock;

/// <summary>The two host facts libvirt consults when it computes the limit and places hostdevs.</summary>
public interface IHostPciFacts
{
    /// <summary>libvirt's ppc64VFIODeviceIsNV2Bridge: the four of_node files exist.</summary>
    bool IsLibvirtNv2Bridge(PciAddress address);

    /// <summary>The host IOMMU group, or null when libvirt could not read it (then it does not isolate).</summary>
    int? IommuGroupOf(PciAddress address);
}

public sealed class TopologyPciFacts(HostTopology topology) : IHostPciFacts
{
    public bool IsLibvirtNv2Bridge(PciAddress address) => topology.BridgeAt(address)?.LibvirtSeesNv2Bridge == true;

    public int? IommuGroupOf(PciAddress address) => topology.IommuGroupOf(address);
}
