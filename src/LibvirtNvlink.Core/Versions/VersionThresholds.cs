namespace LibvirtNvlink.Versions;

/// <summary>
/// Every libvirt, QEMU, kernel and machine-type version a rule of ours depends on, each next to where upstream
/// introduced or removed the feature. Code compares against these and nothing else, so a threshold changes here once.
/// Where a comment names only a file, the release is from our notes (/work/shared/docs/platform-facts.md) and was
/// not re-read in upstream's NEWS for this list.
/// </summary>
public static class VersionThresholds
{
    /// <summary>
    /// libvirt 5.3.0: qemuDomainGetMemLockLimitBytes learns NVLink2 (ppc64VFIODeviceIsNV2Bridge and the
    /// passthrough window per PHB, src/qemu/qemu_domain.c; the v5 patch is in /work/shared/reference).
    /// </summary>
    public static readonly LibvirtVersion LibvirtNv2Memlock = new(5, 3, 0);

    /// <summary>libvirt 6.5.0: src/util/virhook.c runs every executable in hooks/qemu.d (NEWS v6.5.0).</summary>
    public static readonly LibvirtVersion LibvirtHookDirectory = new(6, 5, 0);

    /// <summary>
    /// libvirt 8.7.0: the generic VFIO memlock limit is counted per VFIO device when the guest has a vIOMMU, and
    /// per NVMe disk and vDPA interface (qemuDomainGetMemLockLimitBytes, src/qemu/qemu_domain.c).
    /// </summary>
    public static readonly LibvirtVersion LibvirtPerDeviceVfioFactor = new(8, 7, 0);

    /// <summary>
    /// libvirt 9.3.0: NVMe disks get a memlock term of their own (factor = nVDPA + nNVMe + (nVFIO ? …)) instead of
    /// counting inside nVFIO (NEWS v9.3.0 "Properly configure locked memory limit for VMs with &lt;disk type='nvme'&gt;";
    /// tests/qemumemlockdata/qemumemlock-pc-hostdev-nvme.xml, one hostdev and one NVMe disk: 3221225472 bytes).
    /// </summary>
    public static readonly LibvirtVersion LibvirtNvmeMemlockTerm = new(9, 3, 0);

    /// <summary>libvirt 10.0.0: &lt;hostdev&gt;&lt;driver model='…'/&gt; picks a VFIO variant driver (NEWS v10.0.0, virpci.c).</summary>
    public static readonly LibvirtVersion LibvirtDriverModel = new(10, 0, 0);

    /// <summary>
    /// libvirt 11.8.0: &lt;hostdev&gt;&lt;acpi nodeset='…'/&gt; and memory-less &lt;cell&gt;s; libvirt writes the
    /// acpi-generic-initiator objects itself (src/qemu/qemu_command.c, NEWS v11.8.0).
    /// </summary>
    public static readonly LibvirtVersion LibvirtAcpiNodeset = new(11, 8, 0);

    /// <summary>
    /// libvirt 11.10.0: &lt;iommu model='smmuv3'&gt;&lt;driver pciBus='N'/&gt; plugs an SMMUv3 into the controller of
    /// index N (-device arm-smmuv3,primary-bus=pci.N), and a domain may have one such &lt;iommu&gt; per bus (upstream
    /// 4d6419b286af "qemu: Implement pluggable-device smmuv3"; formatdomain "Since 11.10.0"). Needs QEMU 10.2.
    /// </summary>
    public static readonly LibvirtVersion LibvirtSmmuv3PciBus = new(11, 10, 0);

    /// <summary>libvirt 12.1.0: &lt;hostdev&gt;&lt;driver iommufd='yes'/&gt; (NEWS v12.2.0: "Introduced in v12.1.0").</summary>
    public static readonly LibvirtVersion LibvirtHostdevIommufd = new(12, 1, 0);

    /// <summary>
    /// libvirt 12.8.0: &lt;iommu model='smmuv3'&gt;&lt;driver accel ats ril ssidsize oas cmdqv/&gt;, the accelerated
    /// (nested) SMMUv3. The earliest release we verified: 12.8.0's schema and binary have them, its NEWS does not say
    /// when they came, and the history was out of reach here; an earlier libvirt may have them too.
    /// </summary>
    public static readonly LibvirtVersion LibvirtSmmuv3Accel = new(12, 8, 0);

    /// <summary>
    /// QEMU 8.2 removed hw/ppc/spapr_pci_nvlink2.c ("Support for NVIDIA V100 GPU with NVLink2 is dropped from
    /// qemu-ppc. Linux removed the same support back in 5.13": ppc pull of 2023-09-18 for 8.2).
    /// </summary>
    public static readonly (int Major, int Minor) QemuNv2Removed = (8, 2);

    /// <summary>QEMU 9.0 added the acpi-generic-initiator object (hw/acpi/acpi_generic_initiator.c, NVIDIA).</summary>
    public static readonly (int Major, int Minor) QemuGenericInitiator = (9, 0);

    /// <summary>
    /// QEMU 9.0.0 to 9.1.1 write the PCI device handle of an SRAT generic-initiator entry with bus and devfn swapped,
    /// so the guest kernel ties the nodes to another (or no) device; upstream 16c687d8 fixed it in 9.2 and 9.1.2.
    /// </summary>
    public static readonly (int Major, int Minor, int Micro) QemuGiDeviceHandleFixed = (9, 1, 2);

    /// <summary>QEMU 8.2 added the iommufd object and vfio-pci's iommufd= backend (backends/iommufd.c, 6e6d8ac62b).</summary>
    public static readonly (int Major, int Minor) QemuIommufd = (8, 2);

    /// <summary>
    /// QEMU 10.2 made arm-smmuv3 user-creatable, one per PCIe root complex (primary-bus= pcie.0 or a pxb-pcie):
    /// "hw/arm/virt: Allow user-creatable SMMUv3 dev instantiation"; libvirt probes it as arm-smmuv3.smmu_per_bus.
    /// </summary>
    public static readonly (int Major, int Minor) QemuSmmuv3Device = (10, 2);

    /// <summary>
    /// QEMU 11.0: arm-smmuv3's accel (nested translation through iommufd) with ats, ril, ssidsize and oas (NVIDIA's
    /// QEMU tree: "QEMU v11.0.0 already includes vSMMUv3"; not checked against a tag here). 11.1.3 has them.
    /// </summary>
    public static readonly (int Major, int Minor) QemuSmmuv3Accel = (11, 0);

    /// <summary>QEMU 11.1: arm-smmuv3's cmdqv (Tegra241 CMDQ-V); 11.1.3 has it, 11.0 still lacked it in NVIDIA's tree.</summary>
    public static readonly (int Major, int Minor) QemuSmmuv3Cmdqv = (11, 1);

    /// <summary>
    /// QEMU 10.0 added the virt machine's highmem-mmio-size property (hw/arm/virt.c, virt_set_highmem_mmio_size:
    /// a power of two, never below the 512 GiB default).
    /// </summary>
    public static readonly (int Major, int Minor) QemuHighmemMmioSize = (10, 0);

    /// <summary>Linux 5.13 removed drivers/vfio/pci/vfio_pci_nvlink2.c (present since 5.0).</summary>
    public static readonly (int Major, int Minor) KernelNv2Removed = (5, 13);

    /// <summary>Linux 6.9 added drivers/vfio/pci/nvgrace-gpu/ (nvgrace-gpu-vfio-pci).</summary>
    public static readonly (int Major, int Minor) KernelNvgraceGpu = (6, 9);

    /// <summary>
    /// Linux 6.13: nested SMMUv3 through iommufd, what QEMU's arm-smmuv3 accel=on needs — CONFIG_ARM_SMMU_V3_IOMMUFD and
    /// IOMMU_GET_HW_INFO for SMMUv3 (commit 6912ec91828b, "iommu/arm-smmu-v3: Support IOMMU_GET_HW_INFO via struct
    /// arm_smmu_hw_info"), IOMMU_VIOMMU_ALLOC and IOMMU_DOMAIN_NESTED for SMMUv3 (1e8be08d1c91), both in iommufd's
    /// for-next of 2024-11-12, merged for 6.13. Used only when the kernel's configuration cannot be read: a vendor
    /// kernel may carry it earlier, and CONFIG_ARM_SMMU_V3_IOMMUFD (off by default, "EXPERIMENTAL") decides.
    /// </summary>
    public static readonly (int Major, int Minor) KernelNestedSmmuV3 = (6, 13);

    /// <summary>
    /// Linux 6.17: the Tegra241 (Grace) CMDQV gives a guest its own command queues through iommufd — "iommu/tegra241-cmdqv:
    /// Add user-space use support" (commit 4dc0d12474f9, iommufd of 2025-07-11, merged for 6.17); the host-only driver
    /// came in 6.12. Used only when the kernel's configuration cannot be read (CONFIG_TEGRA241_CMDQV decides).
    /// </summary>
    public static readonly (int Major, int Minor) KernelTegra241GuestCmdqv = (6, 17);

    /// <summary>
    /// pseries-4.1: the first machine type with the NVLink2 PHB properties QEMU's spapr_pci_nvlink2.c needs
    /// (our notes, docs platform-facts §QEMU; earlier machine types keep the pre-NVLink2 compat properties).
    /// </summary>
    public static readonly Version PseriesNv2Machine = new(4, 1);
}
