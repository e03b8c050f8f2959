namespace LibvirtNvlink.Topology;

/// <summary>
/// What the host's kernel offers the production Grace layout, as discovery found it; null where it could not tell.
/// </summary>
/// <param name="Iommufd">/dev/iommu exists (CONFIG_IOMMUFD, module loaded).</param>
/// <param name="NestedSmmuv3">The SMMUv3 driver can give a guest nested translation through iommufd
/// (CONFIG_ARM_SMMU_V3_IOMMUFD), which QEMU's accelerated arm-smmuv3 needs.</param>
public sealed record GraceHostSupport(bool? Iommufd, bool? NestedSmmuv3)
{
    public static GraceHostSupport Unknown { get; } = new(null, null);
}
