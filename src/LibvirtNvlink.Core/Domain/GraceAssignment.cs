using System.Globalization;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Domain;

/// <summary>What a domain asks of the host's Grace GPUs, read the same way by the transform, the preflight and the hook.</summary>
public static class GraceAssignment
{
    /// <summary>The virt machine's default high PCIe MMIO window (VIRT_HIGH_PCIE_MMIO).</summary>
    public const ulong VirtDefaultHighMmio = 512UL << 30;

    /// <summary>The Grace GPUs among the domain's PCI hostdevs, in document order.</summary>
    public static IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> AssignedGraceGpus(DomainDefinition d, HostTopology host) =>
        [.. d.PciHostdevs().Where(h => !h.FromInterface).Select(h => (h, host.GraceGpuAt(h.Source))).Where(p => p.Item2 is not null).Select(p => (p.h, p.Item2!))];

    /// <summary>The user alias the older form gives a GPU hostdev, derived from its host address.</summary>
    public static string AliasFor(PciAddress gpu) => string.Create(CultureInfo.InvariantCulture,
        $"ua-nvgrace-{gpu.Domain:x4}-{gpu.Bus:x2}-{gpu.Slot:x2}-{gpu.Function:x}");

    /// <summary>Room the window keeps for the guest's other 64-bit BARs (virtio, NICs), as KubeVirt's converter does.</summary>
    public const ulong OtherDevicesMmio = 1UL << 30;

    /// <summary>
    /// The 64-bit PCI window the guest needs for these GPUs: each GPU's root-port window, 1 GiB for the other devices,
    /// rounded up to the power of two highmem-mmio-size must be. Four GB200s need 4T, as NVIDIA's Grace guide and Kata's
    /// Grace layouts say.
    /// </summary>
    public static ulong MmioWindowFor(IEnumerable<GraceGpu> gpus)
    {
        var sum = gpus.Aggregate(0UL, (s, g) => s + g.RootPortWindowBytes);
        return sum == 0 ? 0 : System.Numerics.BitOperations.RoundUpToPowerOf2(sum + OtherDevicesMmio);
    }
}
