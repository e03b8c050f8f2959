using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Domain;

/// <summary>
/// The one answer to "is the domain's 64-bit PCI window big enough for its Grace GPUs", given by the transform and
/// the preflight alike: the same verdict and the same words. QEMU's virt_set_highmem_mmio_size (hw/arm/virt.c) takes
/// only a power of two no smaller than the 512 GiB default.
/// </summary>
public static class HighmemMmioWindow
{
    /// <param name="window">What the GPUs' BARs need (<see cref="GraceAssignment.MmioWindowFor"/>).</param>
    /// <param name="barsSource">Where the BAR sizes came from, for the message ("as sysfs shows them").</param>
    /// <returns>The verdict, and for anything but <see cref="HighmemMmioVerdict.Enough"/> the problem and its fix.</returns>
    public static (HighmemMmioVerdict Verdict, string Problem) Assess(DomainDefinition d, ulong window, string barsSource)
    {
        var need = Math.Max(window, GraceAssignment.VirtDefaultHighMmio);
        var (passed, set) = QemuCommandLine.HighmemMmioSize(d);
        if (!passed)
        {
            return window <= GraceAssignment.VirtDefaultHighMmio
                ? (HighmemMmioVerdict.Enough, "")
                : (HighmemMmioVerdict.Missing,
                    $"the GPUs' 64-bit BARs ({barsSource}) need a {window >> 30} GiB PCI window; the virt machine's default is 512 GiB, so the guest will " +
                    $"not map every BAR. With QEMU {TargetQemu.Show(VersionThresholds.QemuHighmemMmioSize)} or newer, 'libvirt-nvlink transform' sets highmem-mmio-size.");
        }
        if (set is not { } have || !System.Numerics.BitOperations.IsPow2(have) || have < GraceAssignment.VirtDefaultHighMmio)
        {
            var what = set is null ? "not a size QEMU reads" : !System.Numerics.BitOperations.IsPow2(set.Value) ? "not a power of two" : "below the virt machine's 512 GiB default";
            return (HighmemMmioVerdict.Invalid,
                $"the highmem-mmio-size in <qemu:commandline> is {what}, so QEMU refuses to start the guest. " +
                $"Set highmem-mmio-size={QemuCommandLine.QemuSize(need)}.");
        }
        return window <= have
            ? (HighmemMmioVerdict.Enough, "")
            : (HighmemMmioVerdict.TooSmall,
                $"highmem-mmio-size gives the guest a {have >> 30} GiB PCI window, but the GPUs' 64-bit BARs ({barsSource}) need " +
                $"{window >> 30} GiB, so the guest will not map every BAR. Set highmem-mmio-size={QemuCommandLine.QemuSize(window)} in the domain's <qemu:commandline>.");
    }
}
