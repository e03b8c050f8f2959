using System.Text.Json.Serialization;

namespace LibvirtNvlink.Simulation;

/// <summary>A declarative description of a host, from which <see cref="SimulatedHostWriter"/> writes a host root.</summary>
/// <param name="Platform">"powernv" (POWER9 with a device tree), "x86" or "grace" (aarch64 Grace; neither has a device tree).</param>
/// <param name="KernelRelease">Written to /proc/sys/kernel/osrelease.</param>
/// <param name="LegacyPhandles">Write <c>linux,phandle</c> instead of <c>phandle</c>, like old firmware.</param>
public sealed record HostLayout(
    string Name,
    string Description,
    string Platform,
    string KernelRelease,
    IReadOnlyList<ChipLayout> Chips,
    IReadOnlyList<ExtraDevice>? ExtraDevices = null,
    bool LegacyPhandles = false,
    GraceLayout? Grace = null);

/// <summary>
/// A Grace superchip host: <paramref name="CpuNodes"/> NUMA nodes with CPUs and memory (0..CpuNodes-1), then
/// <paramref name="GiNodesPerGpu"/> memory-less, CPU-less generic-initiator nodes per GPU in GPU order, as the
/// firmware's SRAT lays them out.
/// </summary>
/// <param name="CpuToGiDistance">SLIT distance from a CPU node to its own socket's GPU nodes; other pairs follow from it.</param>
/// <param name="GiProximityBase">The SRAT proximity domain of the first GPU memory node (the next ones follow); null: the
/// same number as its NUMA node. Linux numbers nodes in the order it meets proximity domains, so both give the same nodes.</param>
/// <param name="Kernel">What the kernel offers for iommufd and nested SMMUv3; null: <see cref="GraceKernelLayout.Default"/>.</param>
public sealed record GraceLayout(int CpuNodes, int GiNodesPerGpu, IReadOnlyList<GraceGpuLayout> Gpus, int CpuToGiDistance = 80, int? GiProximityBase = null,
    GraceKernelLayout? Kernel = null);

/// <summary>One Grace GPU. <paramref name="Bars"/> are the sizes of BAR0, BAR2, BAR4 (64-bit, prefetchable); 0 = absent.</summary>
/// <param name="DriverOverride">sysfs driver_override; with no <paramref name="Driver"/>, a variant driver that refused the GPU.</param>
/// <param name="MemoryOnHost">The nvidia driver onlined the GPU's memory: its first GPU memory node has memory.</param>
/// <param name="Smmu">The host SMMUv3 instance the GPU sits behind, by its /sys/class/iommu name (<c>smmu3.0x</c> and the
/// 16-digit MMIO base, as arm-smmu-v3 names it); GPUs naming the same one share it. Null: no iommu link.</param>
public sealed record GraceGpuLayout(string Address, int Device, int CpuNode, int IommuGroup, string? Driver, IReadOnlyList<ulong> Bars,
    string? DriverOverride = null, bool MemoryOnHost = false, string? Smmu = null);

/// <summary>One POWER9 chip: a GPU PHB domain behind which the GPUs sit, and its NPU PHB domain.</summary>
/// <param name="AtsdCount">Entries in the NPU PHB's ibm,mmio-atsd (8 on current skiboot, 1 on old).</param>
/// <param name="GpuRamBase">Host address of the first GPU's 128 GiB RAM window; the next GPUs follow at 128 GiB steps.</param>
public sealed record ChipLayout(
    int ChipId,
    int GpuDomain,
    int NpuDomain,
    ulong NpuMmioBase,
    int AtsdCount,
    ulong GpuRamBase,
    int CpuNode,
    IReadOnlyList<GpuLayout> Gpus);

/// <summary>One V100 and its links. Bridges are NpuDomain:00:{index on chip}.{link}.</summary>
/// <param name="BridgeIommuGroup">When set, the bridges' IOMMU group differs from the GPU's (a broken host).</param>
/// <param name="Defects">Optional defects: see <see cref="GpuDefect"/>.</param>
public sealed record GpuLayout(
    int Bus,
    int Links,
    int IommuGroup,
    int RamNumaNode,
    string Driver = "vfio-pci",
    string BridgeDriver = "vfio-pci",
    int? BridgeIommuGroup = null,
    IReadOnlyList<string>? Defects = null);

/// <summary>A PCI device that is none of the NVLink2 parts (NICs, switch ports, a PCIe GPU on x86).</summary>
public sealed record ExtraDevice(string Address, int Vendor, int Device, int Class, int? IommuGroup, string? Driver, int NumaNode = 0);

/// <summary>The defects a layout can ask for, so the findings have something real to find.</summary>
public static class GpuDefect
{
    public const string MissingNvlinkSpeedOnLink1 = "missing-nvlink-speed";
    public const string BridgeMissingFromPciLink1 = "bridge-missing-from-pci";
    public const string TgtMismatchOnLink1 = "tgt-mismatch";
    public const string GpuRamOnline = "gpu-ram-online";
    public const string GpuNotListingLink1 = "bridge-not-listed";
    public const string TruncatedTgtOnLink0 = "truncated-tgt";
    public const string DanglingOfNodeOnLink0 = "dangling-of-node";
    public const string OfNodeLoopOnLink1 = "of-node-loop";

    public static IReadOnlyList<string> All { get; } =
    [
        MissingNvlinkSpeedOnLink1, BridgeMissingFromPciLink1, TgtMismatchOnLink1, GpuRamOnline,
        GpuNotListingLink1, TruncatedTgtOnLink0, DanglingOfNodeOnLink0, OfNodeLoopOnLink1,
    ];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(HostLayout))]
public sealed partial class HostLayoutJsonContext : JsonSerializerContext;
