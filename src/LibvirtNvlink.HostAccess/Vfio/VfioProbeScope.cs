using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>Which IOMMU groups may be probed, for the hook and for `snapshot` alike.</summary>
public static class VfioProbeScope
{
    /// <summary>
    /// Only groups the kernel can already hand out: every member on a VFIO driver (managed='yes' devices are
    /// rebound by libvirt after the prepare hook, and checked again by QEMU itself).
    /// </summary>
    public static bool IsOnVfio(HostTopology topology, int group) =>
        topology.IommuGroupMembers(group).All(m => topology.Devices[m].Driver is "vfio-pci" or GraceGpu.VariantDriver);

    /// <summary>BAR sizes are read only for groups holding a Grace GPU; NVLink2 checks need the vendor regions alone.</summary>
    public static bool WantsBarSizes(HostTopology topology, int group) =>
        topology.IommuGroupMembers(group).Any(m => topology.GraceGpuAt(m) is not null);
}
