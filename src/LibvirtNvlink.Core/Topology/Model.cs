using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Topology;

/// <summary>One PCI function as sysfs describes it. <see cref="OfNode"/> is a device-tree node path, or null.</summary>
public sealed record PciDevice(
    PciAddress Address,
    int Vendor,
    int Device,
    int Class,
    string? Driver,
    int? IommuGroup,
    int? NumaNode,
    string? OfNode)
{
    /// <summary>Base class 0x03: VGA, XGA, 3D controller.</summary>
    public bool IsDisplayClass => (Class >> 16) == 0x03;

    /// <summary>Memory BARs from sysfs <c>resource</c>; read only for devices whose size matters (Grace GPUs).</summary>
    public IReadOnlyList<PciBar>? Bars { get; init; }

    /// <summary>sysfs <c>driver_override</c> (null when unset, "(null)" in sysfs); read only for Grace GPUs.</summary>
    public string? DriverOverride { get; init; }

    /// <summary>
    /// The IOMMU instance the device sits behind: the last component of its sysfs <c>iommu</c> link
    /// (<c>smmu3.0x0000000016000000</c> on an SMMUv3, <c>dmar0</c> on Intel); null without the link. Read only for Grace GPUs.
    /// </summary>
    public string? IommuInstance { get; init; }
}

/// <summary>The firmware-reserved host-physical window of one GPU's coherent RAM (the <c>memory@…</c> node).</summary>
public sealed record GpuMemoryWindow(string NodePath, ulong Address, ulong Size, int? NumaNode, bool OnlineOnHost);

/// <summary>An NPU2 emulated bridge: one NVLink of one GPU.</summary>
public sealed record NpuBridge(
    PciAddress Address,
    PciAddress? Gpu,
    int? LinkIndex,
    uint? LinkSpeed,
    ulong? Tgt,
    ulong? Atsd,
    GpuMemoryWindow? Memory,
    int? IommuGroup,
    string? Driver,
    string? LocationCode,
    bool LibvirtSeesNv2Bridge);

/// <summary>
/// An NVIDIA GPU on the host. <see cref="Bridges"/> is in <c>ibm,npu</c> order (entry 0 is the bridge the kernel
/// treats as "the" NPU) and holds only bridges present on PCI. <see cref="IsNvlink2"/> says whether the firmware
/// wires the GPU to NPU bridges at all (an <c>ibm,npu</c> list); it is false on x86 and for PCIe-only GPUs.
/// </summary>
public sealed record NvGpu(
    PciAddress Address,
    int Vendor,
    int Device,
    string? Driver,
    int? IommuGroup,
    int? NumaNode,
    IReadOnlyList<PciAddress> Bridges,
    GpuMemoryWindow? Memory,
    bool IsNvlink2)
{
    /// <summary>Whether every bridge the firmware lists for this GPU is present on PCI.</summary>
    public bool HasAllBridges { get; init; } = true;
}
