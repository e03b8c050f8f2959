using System.Globalization;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Memlock;

/// <summary>One named quantity in the derivation, in the unit libvirt computes it (KiB unless said).</summary>
public sealed record MemlockTerm(string Name, ulong Value, string Formula);

public static class MemlockRules
{
    public const string HardLimit = "hard_limit";
    public const string Locked = "locked";
    public const string Ppc64Nvlink2 = "ppc64-nvlink2";
    public const string Ppc64Vfio = "ppc64-vfio";
    public const string Ppc64Base = "ppc64-base";
    public const string GenericVfio = "generic-vfio";
    public const string None = "none";
}

/// <summary>The limit libvirt will set on the QEMU process, and how it got there.</summary>
/// <param name="Bytes">0 when libvirt sets no limit; 9007199254740991 for "unlimited".</param>
public sealed record MemlockResult(
    ulong Bytes,
    string Rule,
    int PhbCount,
    IReadOnlyList<MemlockTerm> Terms,
    IReadOnlyList<string> Notes)
{
    public bool Unlimited => Bytes == DomainDefinition.UnlimitedKiB;

    public ulong? Term(string name) => Terms.FirstOrDefault(t => t.Name == name)?.Value;
}

/// <summary>
/// libvirt's qemuDomainGetMemLockLimitBytes (src/qemu/qemu_domain.c), reproduced for a target libvirt version,
/// on the domain as libvirt will see it at start: memory sizes aligned (qemuDomainAlignMemorySizes) and PHBs
/// placed. Integer arithmetic in KiB exactly as written there; the result in bytes.
/// </summary>
public static class MemlockCalculator
{
    private const ulong Ppc64Alignment = 256 * 1024;
    private const ulong DefaultAlignment = 1024;
    private const ulong DimmAlignment = 2048;

    public static MemlockResult Calculate(DomainDefinition d, IHostPciFacts host, LibvirtVersion target, bool ignoreHardLimit = false)
    {
        var terms = new List<MemlockTerm>();
        var notes = new List<string>();

        if (!ignoreHardLimit && d.HardLimitKiB is { } hard && hard < DomainDefinition.UnlimitedKiB)
        {
            terms.Add(new MemlockTerm("hardLimitKiB", hard, "<memtune><hard_limit> wins over every formula"));
            return new MemlockResult(hard << 10, MemlockRules.HardLimit, 0, terms, notes);
        }
        if (d.MemoryLocked)
        {
            notes.Add("<memoryBacking><locked/> makes libvirt remove the limit altogether");
            return new MemlockResult(DomainDefinition.UnlimitedKiB, MemlockRules.Locked, 0, terms, notes);
        }

        var (memory, maxMemory) = AlignedMemory(d, terms);
        var hostdevs = d.PciHostdevs();
        // libvirt < 9.3 counts NVMe disks among the VFIO devices, 9.3 and later as a term of their own.
        var nvmeApart = target >= VersionThresholds.LibvirtNvmeMemlockTerm;
        var nNvme = d.NvmeDiskCount;
        var nVfio = hostdevs.Count(h => h.IsVfio) + d.MdevHostdevCount + (nvmeApart ? 0 : nNvme);
        var nVdpa = d.VdpaInterfaceCount + (d.Devices?.Elements("disk").Count(e => (string?)e.Attribute("type") == "vhostvdpa") ?? 0);
        var nOwn = nVdpa + (nvmeApart ? nNvme : 0);

        if (d.IsPpc64 && d.VirtType == "kvm")
        {
            var phbs = PhbPlacementPredictor.Predict(d, host);
            notes.AddRange(phbs.Notes);
            ulong n = (ulong)phbs.Total;
            terms.Add(new MemlockTerm("explicitPhbs", (ulong)phbs.Explicit, "spapr-pci-host-bridge pci-root controllers in the XML (the default PHB included)"));
            terms.Add(new MemlockTerm("addedPhbs", (ulong)phbs.Added, "PHBs libvirt adds: one per host IOMMU group of unplaced hostdevs"));
            terms.Add(new MemlockTerm("phbCount", n, "explicitPhbs + addedPhbs"));
            var baseLimit = maxMemory / 128 + 4096 * n + 8192;
            terms.Add(new MemlockTerm("baseKiB", baseLimit, "maxMemory/128 + 4096*nPHB + 8192 (hash table, 32-bit DMA windows)"));

            var nv2Bridge = target >= VersionThresholds.LibvirtNv2Memlock
                ? hostdevs.FirstOrDefault(h => h.IsVfio && !h.FromInterface && IsValid(h) && host.IsLibvirtNv2Bridge(h.Source))
                : null;
            ulong passthrough;
            string rule;
            if (nv2Bridge is not null)
            {
                passthrough = maxMemory + 128UL * (1UL << 30) / 512 * n + 8192;
                terms.Add(new MemlockTerm("passthroughKiB", passthrough, "maxMemory + 268435456*nPHB + 8192 (TCE table for a 64-bit DMA window reaching 128 TiB, per PHB)"));
                notes.Add($"{nv2Bridge.Source} is an NVLink2 bridge (its of_node has ibm,gpu, ibm,nvlink, ibm,nvlink-speed and memory-region)");
                rule = MemlockRules.Ppc64Nvlink2;
            }
            else if (nVfio > 0 || nOwn > 0)
            {
                var ddw = memory + memory / 512 * n + 8192;
                passthrough = Math.Max(2UL * 1024 * 1024 * n, ddw);
                terms.Add(new MemlockTerm("passthroughKiB", passthrough, "max(2097152*nPHB, memory + memory/512*nPHB + 8192)"));
                if (target < VersionThresholds.LibvirtNv2Memlock && hostdevs.Any(h => host.IsLibvirtNv2Bridge(h.Source)))
                {
                    notes.Add($"libvirt {target} predates NVLink2 support (5.3): it uses the plain VFIO formula, far too small for the GPU RAM window");
                }
                rule = MemlockRules.Ppc64Vfio;
            }
            else
            {
                passthrough = 0;
                terms.Add(new MemlockTerm("passthroughKiB", 0, "no VFIO device"));
                rule = MemlockRules.Ppc64Base;
            }
            var kib = baseLimit + passthrough;
            terms.Add(new MemlockTerm("limitKiB", kib, "baseKiB + passthroughKiB"));
            return new MemlockResult(kib << 10, rule, phbs.Total, terms, notes);
        }

        if (d.IsPpc64)
        {
            notes.Add($"virt type '{d.VirtType}' is not kvm: libvirt uses the generic rule even on ppc64 (TCG needs no TCE tables)");
        }
        if (nVfio == 0 && nOwn == 0)
        {
            terms.Add(new MemlockTerm("limitKiB", 0, "no VFIO, mdev, NVMe or vDPA device: libvirt sets no limit"));
            return new MemlockResult(0, MemlockRules.None, 0, terms, notes);
        }
        ulong factor;
        if (target >= VersionThresholds.LibvirtPerDeviceVfioFactor)
        {
            factor = (ulong)nOwn + (nVfio > 0 ? (d.HasIommu ? (ulong)nVfio : 1UL) : 0UL);
            terms.Add(new MemlockTerm("factor", factor, nvmeApart
                ? "nVDPA + nNVMe + (nVFIO > 0 ? (guest has <iommu> ? nVFIO : 1) : 0), nVFIO counting PCI/mdev hostdevs (libvirt >= 9.3)"
                : "nVDPA + (nVFIO > 0 ? (guest has <iommu> ? nVFIO : 1) : 0), nVFIO counting PCI/mdev hostdevs and NVMe disks (libvirt 8.7 to 9.2)"));
        }
        else
        {
            factor = 1;
            terms.Add(new MemlockTerm("factor", 1, "1 (libvirt < 8.7 locks guest memory once)"));
        }
        var total = factor * memory + 1024 * 1024;
        terms.Add(new MemlockTerm("limitKiB", total, "factor*memory + 1048576 (1 GiB for MMIO)"));
        return new MemlockResult(total << 10, MemlockRules.GenericVfio, 0, terms, notes);
    }

    /// <summary>
    /// What the domain needs for NVLink2, whatever it sets today: the limit an NVLink2-aware libvirt (5.3+) computes
    /// without a hard_limit. For an older target libvirt its own, too small, figure would achieve nothing.
    /// </summary>
    public static MemlockResult Nv2Requirement(DomainDefinition d, IHostPciFacts host, LibvirtVersion target) =>
        Calculate(d, host, target < VersionThresholds.LibvirtNv2Memlock ? VersionThresholds.LibvirtNv2Memlock : target, ignoreHardLimit: true);

    /// <summary>The guest memory libvirt sizes its limits by (KiB, aligned as at start), whatever rule applies.</summary>
    internal static ulong AlignedMemoryKiB(DomainDefinition d) => AlignedMemory(d, []).Memory;

    private static bool IsValid(PciHostdev h) => h.Source.Domain != 0 || h.Source.Bus != 0 || h.Source.Slot != 0;

    /// <summary>Memory as qemuDomainAlignMemorySizes leaves it: 256 MiB steps on ppc64, 1 MiB elsewhere.</summary>
    private static (ulong Memory, ulong MaxMemory) AlignedMemory(DomainDefinition d, List<MemlockTerm> terms)
    {
        var align = d.IsPpc64 ? Ppc64Alignment : DefaultAlignment;
        var devices = d.MemoryDevices();
        var hotplugRaw = devices.Aggregate(0UL, (s, m) => s + m.SizeKiB);
        var cells = d.NumaCellsKiB();
        ulong initial;
        if (cells.Count > 0 && cells.Any(c => c > 0))
        {
            initial = cells.Aggregate(0UL, (s, c) => s + RoundUp(c, align));
        }
        else
        {
            var declared = d.MemoryKiB;
            initial = RoundUp(declared > hotplugRaw ? declared - hotplugRaw : 0, align);
        }
        var moduleAlign = d.IsPpc64 ? Ppc64Alignment : DimmAlignment;
        var hotplug = devices.Aggregate(0UL, (s, m) => s + RoundUp(m.SizeKiB, moduleAlign));
        var memory = initial + hotplug;
        var max = d.MaxMemoryKiB is { } m ? RoundUp(m, align) : 0;
        terms.Add(new MemlockTerm("memoryKiB", memory, string.Create(CultureInfo.InvariantCulture,
            $"<memory> (or the NUMA cells) minus memory devices, rounded up to {align} KiB, plus memory devices")));
        terms.Add(new MemlockTerm("maxMemoryKiB", max > 0 ? max : memory, max > 0 ? "<maxMemory>, rounded up" : "no <maxMemory>: memoryKiB"));
        return (memory, max > 0 ? max : memory);
    }

    private static ulong RoundUp(ulong value, ulong align) => (value + align - 1) / align * align;
}
