namespace LibvirtNvlink.Memlock;

/// <summary>
/// What the host kernel's release tells about iommufd and the PFNMAP (device-memory) BARs of a Grace GPU; see
/// <see cref="IommufdBarAccounting"/> for what each means for the locked-memory limit.
/// </summary>
public enum IommufdBarKernel
{
    /// <summary>An NVIDIA kernel flavour (Ubuntu's linux-nvidia, "-nvidia" in the release): carries NVIDIA's iommufd PFNMAP work-around.</summary>
    NvidiaKernel,

    /// <summary>Any other kernel: upstream iommufd code, unless the kernel was built with NVIDIA's patches under another name.</summary>
    OtherKernel,

    /// <summary>The release could not be read.</summary>
    UnknownKernel,
}
