namespace LibvirtNvlink.Simulation;

/// <summary>
/// What a simulated Grace host's kernel offers for iommufd and nested SMMUv3, so a test can take one piece away. The
/// defaults are a kernel with all of it: iommufd loaded (/dev/iommu), VFIO device cdevs, the SMMUv3 iommufd (nesting)
/// support and the Tegra241 CMDQV driver, and its configuration in /boot/config-RELEASE as Debian and Ubuntu keep it.
/// </summary>
/// <param name="ConfigFile">Write /boot/config-RELEASE; without it the kernel's options are unknown to a reader.</param>
/// <param name="Iommufd">CONFIG_IOMMUFD: "y", "m" or null (not set: no /dev/iommu either).</param>
/// <param name="IommufdLoaded">/dev/iommu exists (with CONFIG_IOMMUFD=m: the iommufd module is loaded).</param>
/// <param name="VfioDeviceCdev">CONFIG_VFIO_DEVICE_CDEV=y: each GPU on a VFIO driver gets /dev/vfio/devices/vfioN.</param>
/// <param name="ArmSmmuV3Iommufd">CONFIG_ARM_SMMU_V3_IOMMUFD=y: nested (accelerated) SMMUv3 through iommufd.</param>
/// <param name="Tegra241Cmdqv">CONFIG_TEGRA241_CMDQV=y: Grace's command-queue virtualisation.</param>
public sealed record GraceKernelLayout(
    bool ConfigFile = true,
    string? Iommufd = "y",
    bool IommufdLoaded = true,
    bool VfioDeviceCdev = true,
    bool ArmSmmuV3Iommufd = true,
    bool Tegra241Cmdqv = true)
{
    /// <summary>The kernel every built-in Grace host runs unless its layout says otherwise.</summary>
    public static GraceKernelLayout Default { get; } = new();
}
