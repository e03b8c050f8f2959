using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Memlock;

/// <summary>
/// What a Grace guest locks, against what libvirt sets on its own. Pure: the domain as libvirt will get it (the
/// transformed XML), the host, the target libvirt and the host kernel's release.
/// </summary>
/// <remarks>
/// What is pinned, from QEMU and the kernel:
/// <list type="bullet">
/// <item>QEMU gives VFIO one container (legacy) or one IOAS (iommufd, per <c>-object iommufd</c>; libvirt writes one
/// per domain) per guest DMA address space (hw/vfio: vfio_address_space_get, then a container or IOAS shared by the
/// devices of that space). Devices behind no vIOMMU share system memory; all devices behind accelerated SMMUv3s share
/// one address space (hw/arm/smmuv3-accel.c, shared_as_sysmem: "used by all vfio-pci devices behind all accelerated
/// SMMUv3 instances within a VM"); behind any other vIOMMU every device has its own.</item>
/// <item>Each container or IOAS pins guest RAM for itself and charges it again: type1 accounts per container
/// (vfio_lock_acct), iommufd per iopt_pages, and two IOAS hold two iopt_pages for the same memory. Within one IOAS a
/// page is pinned once however many devices are attached. So guest RAM counts once per address space and backend;
/// NVMe disks (QEMU's block/nvme.c opens its own container) and vDPA devices add one each, as libvirt counts them.</item>
/// <item>QEMU maps every RAM-device region (the GPUs' BARs) into each container and IOAS for peer-to-peer. type1 never
/// charges them; iommufd does on the kernels <see cref="IommufdBarAccounting"/> names: once per IOAS.</item>
/// </list>
/// libvirt's figure (≥ 8.7: factor × RAM + 1 GiB, factor = number of VFIO devices when the domain has any
/// &lt;iommu&gt;, else 1) counts per device, not per address space, and never the BARs: with an accelerated SMMUv3 it
/// counts RAM N times where it is pinned once, which can cover the BARs of N GPUs — or not (kubevirt#18915: a vIOMMU
/// libvirt cannot see in the XML gets the smaller factor). The comparison is made on the XML libvirt will get.
/// </remarks>
public static class GraceMemlock
{
    /// <summary>libvirt's allowance on top of guest RAM (1 GiB, "for MMIO"); kept in what we compute.</summary>
    private const ulong OverheadKiB = 1024 * 1024;

    public static GraceMemlockResult Compute(DomainDefinition d, HostTopology host, LibvirtVersion target, string? kernelRelease)
    {
        var libvirt = MemlockCalculator.Calculate(d, new TopologyPciFacts(host), target, ignoreHardLimit: true);
        var terms = new List<MemlockTerm>();
        var notes = new List<string>();
        var memory = MemlockCalculator.AlignedMemoryKiB(d);
        terms.Add(new MemlockTerm("memoryKiB", memory, "guest memory as libvirt aligns it at start (1 MiB steps, NUMA cells one by one)"));

        var spaces = new DmaAddressSpaces(d);
        var iommufd = new HashSet<string>(StringComparer.Ordinal);
        var legacy = new HashSet<string>(StringComparer.Ordinal);
        var assigned = GraceAssignment.AssignedGraceGpus(d, host);
        foreach (var h in d.PciHostdevs().Where(h => h.IsVfio))
        {
            var space = spaces.Of(h.Element, h.Source.ToString());
            if (BackendOf(d, h) == VfioBackend.Iommufd)
            {
                iommufd.Add(space);
            }
            else
            {
                legacy.Add(space);
                if (spaces.IsAccelerated(space))
                {
                    notes.Add($"hostdev {h.Source} sits behind an accelerated SMMUv3 but uses the legacy VFIO container; QEMU nests the guest's tables only through iommufd: give it <driver iommufd='yes'/>.");
                }
            }
        }
        var mdevs = d.Devices?.Elements("hostdev").Where(e => (string?)e.Attribute("type") == "mdev").ToList() ?? [];
        for (var i = 0; i < mdevs.Count; i++) legacy.Add(spaces.Of(mdevs[i], "mdev" + i.ToString(CultureInfo.InvariantCulture)));
        var vdpaDisks = d.Devices?.Elements("disk").Count(e => (string?)e.Attribute("type") == "vhostvdpa") ?? 0;
        var others = (ulong)(d.NvmeDiskCount + d.VdpaInterfaceCount + vdpaDisks);

        terms.Add(new MemlockTerm("iommufdSpaces", (ulong)iommufd.Count,
            "iommufd IOAS holding guest RAM: one per DMA address space of the iommufd hostdevs (system memory; the one all accelerated SMMUv3s share; one per device behind another vIOMMU)"));
        terms.Add(new MemlockTerm("legacyContainers", (ulong)legacy.Count, "legacy VFIO containers: one per DMA address space of the other VFIO hostdevs and mdevs"));
        terms.Add(new MemlockTerm("otherPinners", others, "NVMe disks and vDPA devices, each pinning guest RAM on its own"));
        var ramCopies = (ulong)(iommufd.Count + legacy.Count) + others;
        terms.Add(new MemlockTerm("ramCopies", ramCopies, "iommufdSpaces + legacyContainers + otherPinners"));

        var barKiB = assigned.Aggregate(0UL, (s, a) => s + a.Gpu.Mmio64Bytes) >> 10;
        terms.Add(new MemlockTerm("graceBarKiB", barKiB, "64-bit BARs of the assigned Grace GPUs (sysfs sizes), mapped into every container and IOAS"));
        // Every kernel is taken to charge them (IommufdBarAccounting says why): only legacy containers leave them out.
        var barCopies = (ulong)iommufd.Count;
        terms.Add(new MemlockTerm("barCopies", barCopies, "iommufdSpaces: iommufd charges PFNMAP BARs once per IOAS (type1 never does)"));
        var need = ramCopies == 0 && barCopies == 0 ? 0 : ramCopies * memory + barCopies * barKiB + OverheadKiB;
        terms.Add(new MemlockTerm("needKiB", need, "ramCopies*memoryKiB + barCopies*graceBarKiB + 1048576 (libvirt's 1 GiB allowance)"));
        terms.Add(new MemlockTerm("libvirtFactor", libvirt.Term("factor") ?? 0, "the factor libvirt multiplies guest RAM by (see its terms above)"));
        terms.Add(new MemlockTerm("libvirtKiB", libvirt.Bytes >> 10, "libvirt's own limit, <hard_limit> ignored"));

        if (iommufd.Count > 0 && assigned.Count > 0)
        {
            notes.Add(IommufdBarAccounting.Explain(IommufdBarAccounting.Classify(kernelRelease), kernelRelease));
            notes.Add("the BAR sizes are the ones sysfs shows; QEMU maps the BARs nvgrace-gpu emulates (the coherent memory as BAR4, a carve-out as BAR2), " +
                      "which the hook's prepare reads from VFIO: where those are larger, so is the need: then set a <hard_limit> that covers them.");
            notes.Add("iommufd counts pinned memory per user unless told otherwise: libvirt sets process-based accounting (IOMMU_OPTION_RLIMIT_MODE) on the " +
                      "/dev/iommu it opens for the domain; a QEMU that opens /dev/iommu itself shares one count among all QEMUs of its user.");
        }
        foreach (var (hostdev, gpu) in assigned.Where(a => BackendOf(d, a.Hostdev) == VfioBackend.LegacyContainer))
        {
            notes.Add($"Grace GPU {gpu.Address} uses the legacy VFIO container: type1 does not charge its {Gib(gpu.Mmio64Bytes)} of BARs (reserved PFNs are not counted).");
        }

        var ramOnly = ramCopies == 0 ? 0 : ramCopies * memory + OverheadKiB;
        GraceMemlockReason reason;
        if (libvirt.Unlimited) reason = GraceMemlockReason.Unlimited;
        else if (libvirt.Bytes >= need << 10) reason = GraceMemlockReason.LibvirtCovers;
        else if (libvirt.Bytes >= ramOnly << 10) reason = GraceMemlockReason.IommufdBars;
        else reason = GraceMemlockReason.RamCopies;
        return new GraceMemlockResult(libvirt, need << 10, reason, terms, notes);
    }

    /// <summary>The backend libvirt gives a hostdev: its own &lt;driver iommufd&gt;, else the domain's &lt;iommufd&gt;.</summary>
    public static VfioBackend BackendOf(DomainDefinition d, PciHostdev h) =>
        (string?)h.DriverElement?.Attribute("iommufd") switch
        {
            "yes" => VfioBackend.Iommufd,
            "no" => VfioBackend.LegacyContainer,
            _ => (string?)d.Root.Element("iommufd")?.Attribute("enabled") == "yes" ? VfioBackend.Iommufd : VfioBackend.LegacyContainer,
        };

    private static string Gib(ulong bytes) => (bytes >> 30).ToString(CultureInfo.InvariantCulture) + " GiB";

    /// <summary>
    /// Which guest DMA address space QEMU puts a device in: behind no vIOMMU, system memory; behind an accelerated
    /// SMMUv3, the one they all share; behind another vIOMMU, its own. A machine-wide &lt;iommu&gt; (no pciBus) covers
    /// every device; one with &lt;driver pciBus='I'/&gt; the devices below controller I, found by walking each bus up
    /// through the controllers' own addresses. A device without an address is taken to be where libvirt puts it by
    /// default, below no expander.
    /// </summary>
    private sealed class DmaAddressSpaces
    {
        private const string SystemMemory = "system";
        private const string SharedAccelerated = "accelerated-smmuv3";
        private readonly DomainDefinition _d;
        private readonly bool? _machineWideAccel;
        private readonly Dictionary<int, bool> _accelByBus = [];
        private readonly Dictionary<int, int?> _parentBus;

        public DmaAddressSpaces(DomainDefinition d)
        {
            _d = d;
            foreach (var iommu in d.Devices?.Elements("iommu") ?? [])
            {
                var driver = iommu.Element("driver");
                var accel = (string?)iommu.Attribute("model") == "smmuv3" && (string?)driver?.Attribute("accel") == "on";
                if (int.TryParse((string?)driver?.Attribute("pciBus"), NumberStyles.None, CultureInfo.InvariantCulture, out var bus)) _accelByBus[bus] = accel;
                else _machineWideAccel = accel || _machineWideAccel == true;
            }
            // Controllers without an index yet (virt-install leaves them to libvirt) cannot be under a pciBus: skipped.
            _parentBus = [];
            foreach (var c in d.Devices?.Elements("controller").Where(c => (string?)c.Attribute("type") == "pci") ?? [])
            {
                if (int.TryParse((string?)c.Attribute("index"), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) _parentBus.TryAdd(index, d.GuestAddressOf(c)?.Bus);
            }
        }

        public bool IsAccelerated(string space) => space == SharedAccelerated;

        public string Of(XElement device, string key)
        {
            if (_machineWideAccel is { } wide) return wide ? SharedAccelerated : "device " + key;
            var bus = _d.GuestAddressOf(device)?.Bus;
            var seen = new HashSet<int>();
            while (bus is { } b && seen.Add(b))
            {
                if (_accelByBus.TryGetValue(b, out var accel)) return accel ? SharedAccelerated : "device " + key;
                bus = _parentBus.GetValueOrDefault(b);
            }
            return SystemMemory;
        }
    }
}
