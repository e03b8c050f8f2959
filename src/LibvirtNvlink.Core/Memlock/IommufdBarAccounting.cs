namespace LibvirtNvlink.Memlock;

/// <summary>
/// Which kernels charge a Grace GPU's device-memory BARs against RLIMIT_MEMLOCK when QEMU maps them into an iommufd
/// IOAS, from the kernel code:
/// <list type="bullet">
/// <item>Legacy VFIO type1 never does: vfio_pin_pages_remote follows VM_PFNMAP vmas and leaves reserved/invalid PFNs
/// out of the count (drivers/vfio/vfio_iommu_type1.c, is_invalid_reserved_pfn).</item>
/// <item>Upstream iommufd never did either: IOMMU_IOAS_MAP pins by user address through pin_user_pages (GUP), which
/// refuses VM_PFNMAP, so the BAR mapping fails and nothing is charged (drivers/iommu/iommufd/pages.c,
/// pfn_reader_user_pin); since 6.19 BARs go through a VFIO dma-buf (VFIO_DEVICE_FEATURE_DMA_BUF, IOMMU_IOAS_MAP_FILE),
/// whose pages iopt_alloc_dmabuf_pages sets to IOPT_PAGES_ACCOUNT_NONE. No upstream release starts or stops charging
/// them, so there is no kernel threshold in <see cref="Versions.VersionThresholds"/>.</item>
/// <item>NVIDIA's kernels carry "NVIDIA: SAUCE: WAR: iommufd/pages: Bypass PFNMAP" (NVIDIA/NV-Kernels 68a70c30f8ce),
/// which lets pfn_reader_user_pin fall back to follow_pfnmap for VM_PFNMAP vmas and counts those PFNs like pinned
/// pages: the whole BAR is charged (IOPT_PAGES_ACCOUNT_USER/MM unless QEMU has CAP_IPC_LOCK), and a guest whose
/// limit covers only its RAM gets ENOMEM. NVIDIA's follow-up carry "iommufd: Avoid including VM_PFNMAP memory from
/// RLIMIT_MEMLOCK" (NV-Kernels PR #248 for 6.14, #249 for 6.17, Launchpad #2131970) sets them to
/// IOPT_PAGES_ACCOUNT_NONE, but which builds have it cannot be read from a release string.</item>
/// </list>
/// Since a kernel built from NVIDIA's tree cannot be told apart from an upstream one by its release, every kernel is
/// treated as charging them: on an upstream kernel that over-states the need by the BARs, and the only cost is a
/// &lt;hard_limit&gt; that was not strictly needed; the reverse mistake fails the guest's start.
/// </summary>
public static class IommufdBarAccounting
{
    public static IommufdBarKernel Classify(string? kernelRelease) =>
        kernelRelease is null ? IommufdBarKernel.UnknownKernel
        : kernelRelease.Contains("nvidia", StringComparison.OrdinalIgnoreCase) ? IommufdBarKernel.NvidiaKernel
        : IommufdBarKernel.OtherKernel;

    /// <summary>Why the BARs are counted on this kernel, for explain and transform.</summary>
    public static string Explain(IommufdBarKernel kernel, string? kernelRelease) => kernel switch
    {
        IommufdBarKernel.NvidiaKernel =>
            $"Linux {kernelRelease} is an NVIDIA kernel: its iommufd maps PFNMAP BARs (NVIDIA's carry patch \"iommufd/pages: Bypass PFNMAP\") and charges them " +
            "against RLIMIT_MEMLOCK unless it also carries NVIDIA's fix \"iommufd: Avoid including VM_PFNMAP memory from RLIMIT_MEMLOCK\" (Launchpad #2131970), " +
            "which the release does not say; counted.",
        IommufdBarKernel.OtherKernel =>
            $"Linux {kernelRelease}: upstream iommufd does not charge PFNMAP BARs (GUP refuses them; since 6.19 they are mapped through a dma-buf, not " +
            "accounted), but a kernel built with NVIDIA's iommufd carry patch does and cannot be told apart by its release; counted to be safe.",
        _ => "the host kernel's release is unknown; NVIDIA's kernels charge iommufd-mapped PFNMAP BARs against RLIMIT_MEMLOCK, so they are counted.",
    };
}
