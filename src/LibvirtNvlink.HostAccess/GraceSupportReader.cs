using LibvirtNvlink.Preflight;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// What the kernel offers the production Grace layout, for the transform's choice of layout: /dev/iommu for iommufd,
/// and nested SMMUv3 by the same rule the preflight applies (CONFIG_ARM_SMMU_V3_IOMMUFD from /boot/config-RELEASE,
/// else the release). Nested SMMUv3 has no sysfs trace; only the IOMMU_GET_HW_INFO ioctl on a bound device tells.
/// </summary>
public static class GraceSupportReader
{
    public static GraceHostSupport Read(HostRoot root, string? kernelRelease) => new(
        root.Exists(PreflightFactsReader.DevIommu),
        KernelConfig.Has(PreflightFactsReader.ReadKernelConfig(root, kernelRelease), kernelRelease, "ARM_SMMU_V3_IOMMUFD", VersionThresholds.KernelNestedSmmuV3));
}
