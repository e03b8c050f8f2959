namespace LibvirtNvlink.Transform;

/// <summary>Where a Grace guest's GPUs sit on its PCIe tree (--grace-layout).</summary>
public enum GracePciLayout
{
    /// <summary>The expander layout where the target libvirt, QEMU and host support all of it; the flat one elsewhere.</summary>
    Auto,

    /// <summary>The GPUs on the default pcie-root, as libvirt places them; legacy VFIO groups; no virtual IOMMU.</summary>
    Flat,

    /// <summary>
    /// One pcie-expander-bus per host SMMU (and guest cell) of the GPUs, on the cell standing for their CPU node, a
    /// pcie-root-port per GPU under it, and, where the targets have them, iommufd and an accelerated SMMUv3 per expander.
    /// </summary>
    Expander,
}
