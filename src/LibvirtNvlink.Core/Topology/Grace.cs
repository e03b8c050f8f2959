using System.Globalization;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Topology;

/// <summary>One memory BAR of a PCI function, from its sysfs <c>resource</c> file.</summary>
public sealed record PciBar(int Index, ulong Size, bool Is64Bit, bool Prefetchable);

/// <summary>Parses a sysfs <c>resource</c> file: one "start end flags" line per resource, BARs first.</summary>
public static class PciResourceFile
{
    private const ulong IoResourceMem = 0x200;
    private const ulong IoResourcePrefetch = 0x2000;
    private const ulong IoResourceMem64 = 0x100000;
    private const int BarCount = 6;

    public static IReadOnlyList<PciBar> Parse(string text)
    {
        var bars = new List<PciBar>();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i < lines.Length && i < BarCount; i++)
        {
            var f = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3 || !Hex(f[0], out var start) || !Hex(f[1], out var end) || !Hex(f[2], out var flags)) continue;
            if ((flags & IoResourceMem) == 0 || end <= start) continue;
            bars.Add(new PciBar(i, end - start + 1, (flags & IoResourceMem64) != 0, (flags & IoResourcePrefetch) != 0));
        }
        return bars;
    }

    private static bool Hex(string s, out ulong value) =>
        ulong.TryParse(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}

/// <summary>
/// One host NUMA node as /sys/devices/system/node describes it. <see cref="Distances"/> maps every other online
/// node to the SLIT distance the kernel reports (nodeN/distance lists them in node order).
/// </summary>
public sealed record NumaNodeInfo(int Id, bool HasCpus, bool HasMemory, IReadOnlyDictionary<int, int> Distances)
{
    /// <summary>A node without CPUs and without memory: what firmware creates for an ACPI generic initiator.</summary>
    public bool IsMemoryless => !HasCpus && !HasMemory;
}

/// <summary>
/// A Grace Hopper / Grace Blackwell GPU. <see cref="GiNodes"/> are the host's memory-less, CPU-less NUMA nodes
/// tied to it (ACPI generic initiators): the guest needs one memory-less node for each, or the GPU driver there
/// cannot online the coherent memory and MIG does not work.
/// </summary>
public sealed record GraceGpu(
    PciAddress Address,
    int Device,
    string? Driver,
    int? IommuGroup,
    int? NumaNode,
    IReadOnlyList<int> GiNodes,
    IReadOnlyList<PciBar> Bars)
{
    /// <summary>The bound driver's sysfs name: KBUILD_MODNAME of nvgrace-gpu-vfio-pci.ko, so underscores.</summary>
    public const string VariantDriver = "nvgrace_gpu_vfio_pci";

    public bool HasVariantDriver => Driver is VariantDriver or "nvgrace-gpu-vfio-pci";

    /// <summary>sysfs driver_override: the driver the GPU was handed to (null when unset).</summary>
    public string? DriverOverride { get; init; }

    /// <summary>
    /// The host SMMUv3 instance the GPU sits behind, by its name under /sys/class/iommu (<c>smmu3.0x0000000016000000</c>:
    /// arm-smmu-v3 registers it as "smmu3.%pa" of its MMIO base), from the device's <c>iommu</c> link. Null when the GPU has
    /// no such link or its IOMMU is not an SMMUv3. GPUs with the same name share one physical SMMU, and an accelerated
    /// (nested) vSMMU in the guest can only stand for one physical SMMU.
    /// </summary>
    public string? Smmu { get; init; }

    /// <summary>The prefix of every arm-smmu-v3 instance name (iommu_device_sysfs_add(…, "smmu3.%pa", …)).</summary>
    public const string SmmuV3Prefix = "smmu3.";

    /// <summary>The SMMUv3 instance of an IOMMU instance name, or null when it is another kind of IOMMU.</summary>
    public static string? SmmuV3Of(string? iommuInstance) =>
        iommuInstance is not null && iommuInstance.StartsWith(SmmuV3Prefix, StringComparison.Ordinal) ? iommuInstance : null;

    /// <summary>
    /// Handed to the variant driver (driver_override) yet bound to nothing: nvgrace-gpu-vfio-pci failed its probe. Current
    /// kernels' probe polls two BAR0 registers for up to 30 s and fails with -ETIME when the GPU's HBM training has not
    /// finished or its C2C link to the CPU is not up (nvgrace_gpu_wait_device_ready).
    /// </summary>
    public bool VariantProbeFailed => Driver is null && DriverOverride is VariantDriver or "nvgrace-gpu-vfio-pci";

    /// <summary>
    /// Whether the variant driver exposes the GPU's memory, from the BAR regions VFIO reports (null: not read). When
    /// firmware states no usable GPU memory (nvidia,gpu-mem-size 0, which it reports when the C2C link is down),
    /// nvgrace-gpu registers the GPU with its "core" ops: BAR4 is then the physical BAR from vfio-pci-core, without the
    /// sparse-mmap area the full driver gives its emulated usemem BAR (nvgrace_gpu_ioctl_get_region_info).
    /// </summary>
    public static bool? ExposesDeviceMemory(Vfio.VfioDeviceRegions regions)
    {
        if (regions.BarRegions.Count <= UsememBar) return null;
        var usemem = regions.BarRegions[UsememBar];
        return usemem.Size > 0 && usemem.Capabilities.Any(c => c.Id == Vfio.VfioConstants.RegionInfoCapSparseMmap);
    }

    /// <summary>The BAR nvgrace-gpu emulates over the cacheable GPU memory (usemem: BAR4 and BAR5).</summary>
    public const int UsememBar = 4;

    /// <summary>This GPU's 64-bit BARs, summed.</summary>
    public ulong Mmio64Bytes => Bars.Where(b => b.Is64Bit).Aggregate(0UL, (sum, b) => sum + b.Size);

    /// <summary>
    /// The share of the guest's 64-bit PCI window this GPU takes: the prefetchable window of the root port above it,
    /// which holds its 64-bit prefetchable BARs and is aligned to the largest, so its size rounds up to a multiple of
    /// that BAR (a B200's 256 GiB usemem BAR and its 64 MiB neighbour need 512 GiB). KubeVirt's converter counts at
    /// least 512 GiB per Grace GPU for the same reason.
    /// </summary>
    public ulong RootPortWindowBytes
    {
        get
        {
            var bars = Bars.Where(b => b.Is64Bit && b.Prefetchable).ToList();
            if (bars.Count == 0) return 0;
            var sum = bars.Aggregate(0UL, (s, b) => s + b.Size);
            var largest = bars.Max(b => b.Size);
            return (sum + largest - 1) / largest * largest;
        }
    }

    /// <summary>
    /// This GPU with BAR2 and BAR4 as the variant driver emulates them (64-bit, prefetchable: resmem and usemem,
    /// drivers/vfio/pci/nvgrace-gpu), from VFIO's region sizes for BAR0–BAR5; the other BARs stay as sysfs shows them.
    /// </summary>
    public GraceGpu WithEmulatedBars(IReadOnlyList<ulong> vfioBarSizes)
    {
        if (vfioBarSizes.Count < 5) return this;
        var bars = Bars.Where(b => b.Index is not (2 or 3 or 4 or 5)).ToList();
        foreach (var index in (int[])[2, 4])
        {
            if (vfioBarSizes[index] > 0) bars.Add(new PciBar(index, vfioBarSizes[index], Is64Bit: true, Prefetchable: true));
        }
        return this with { Bars = [.. bars.OrderBy(b => b.Index)] };
    }

    public string Model => Device switch
    {
        0x2941 => "GB200",
        0x31c2 => "GB300",
        _ => "GH200",
    };
}

/// <summary>
/// Finds the host's Grace GPUs and the generic-initiator nodes of each. The firmware states them per GPU: the SRAT's
/// generic-initiator entries name the GPU's PCI address (<see cref="AcpiSrat"/>), and when the table can be read that
/// is the answer, checked against the nodes sysfs shows. Without it, the layout is inferred from sysfs: firmware lists,
/// per GPU, a block of consecutive memory-less CPU-less nodes after the CPU nodes (8 per GPU on shipping firmware, but
/// nothing here assumes 8); a GPU whose numa_node is inside such a block owns the nodes from there to the next GPU's;
/// GPUs that report a CPU node share the first block after it, split evenly in PCI-address order. That inference
/// fails when a GPU's memory is online on the host (its first node then has memory and no longer looks like one of
/// its nodes), so a host with CPU-less nodes that have memory is an error without the SRAT, never a guess.
/// </summary>
public static class GraceTopologyBuilder
{
    public static IReadOnlyList<GraceGpu> Build(
        IEnumerable<PciDevice> devices, IReadOnlyList<NumaNodeInfo> nodes, string? kernelRelease,
        Func<string, bool> pciDriverLoaded, List<Finding> findings, AcpiSrat? srat = null, string? sratUnreadable = null)
    {
        var graceDevices = devices.Where(d => PciIds.IsGraceGpuId(d.Vendor, d.Device))
            .OrderBy(d => d.NumaNode ?? int.MaxValue).ThenBy(d => d.Address).ToList();
        if (graceDevices.Count == 0) return [];

        var giNodes = srat is { GenericInitiators.Count: > 0 }
            ? NodesFromFirmware(graceDevices, nodes, srat, findings)
            : AssignGiNodes(graceDevices, nodes, findings, sratUnreadable ?? "it has no generic-initiator entries");
        var gpus = graceDevices.Select(d => new GraceGpu(d.Address, d.Device, d.Driver, d.IommuGroup, d.NumaNode,
            giNodes.GetValueOrDefault(d.Address) ?? [], d.Bars ?? []) { DriverOverride = d.DriverOverride, Smmu = GraceGpu.SmmuV3Of(d.IommuInstance) }).OrderBy(g => g.Address).ToList();

        foreach (var g in gpus)
        {
            var at = g.Address.ToString();
            if (g.Driver == "nvidia")
            {
                findings.Add(new Finding(Severity.Warning, "grace-held-by-host-driver", at,
                    $"{g.Model} GPU {at} is bound to the host's nvidia driver, so no guest can have it. Stop nvidia-persistenced " +
                    $"and every CUDA process on it, then hand it to the variant driver: 'driverctl set-override {at} {GraceGpu.VariantDriver}' " +
                    "(or use managed='yes' with libvirt 10.0 or newer)."));
            }
            else if (g.VariantProbeFailed)
            {
                findings.Add(new Finding(Severity.Error, "grace-variant-probe-failed", at,
                    $"{g.Model} GPU {at} was handed to {GraceGpu.VariantDriver} (driver_override) but is bound to no driver: the variant driver refused it. " +
                    "It does so when the GPU's HBM training has not finished or its C2C link to the CPU is not up within 30 s, and then no guest can have " +
                    $"the GPU. Read 'dmesg | grep -i nvgrace' (probe failed with error -62 means the wait timed out) and the BMC's health log; after a " +
                    $"reset or power cycle of the superchip, probe again: 'echo {at} > /sys/bus/pci/drivers_probe'."));
            }
            else if (g.Driver == "vfio-pci")
            {
                findings.Add(new Finding(Severity.Error, "grace-plain-vfio-pci", at,
                    $"{g.Model} GPU {at} is bound to plain vfio-pci: its coherent memory will not be exposed to a guest. " +
                    $"Bind it to {GraceGpu.VariantDriver} instead: 'driverctl set-override {at} {GraceGpu.VariantDriver}' " +
                    "(modprobe nvgrace_gpu_vfio_pci first if it is not loaded)."));
            }
            if (g.GiNodes.Count == 0 && !findings.Any(f => f.Code is "grace-gi-nodes-ambiguous" or "grace-gi-nodes-undecidable" && f.Device.Contains(at, StringComparison.Ordinal)))
            {
                findings.Add(new Finding(Severity.Error, "grace-no-gi-nodes", at,
                    $"No memory-less, CPU-less NUMA node follows {g.Model} GPU {at}'s node {g.NumaNode?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}: " +
                    "the firmware's generic-initiator nodes are missing, or the GPU memory is online on the host (nvidia driver). " +
                    "Without them the guest cannot use the coherent memory; check 'numactl -H', the firmware version and that the nvidia driver does not own the GPU."));
            }
        }

        // Vendor kernels (Ubuntu's -nvidia 6.8) carry the driver before 6.9: only its absence is a problem.
        var driverPresent = gpus.Any(g => g.HasVariantDriver) || pciDriverLoaded(GraceGpu.VariantDriver);
        if (!driverPresent)
        {
            var list = string.Join(", ", gpus.Select(g => g.Address));
            if (KernelVersion(kernelRelease) is { } k && k.CompareTo(VersionThresholds.KernelNvgraceGpu) < 0)
            {
                findings.Add(new Finding(Severity.Error, "grace-kernel-too-old", list,
                    $"Linux {kernelRelease} predates nvgrace-gpu-vfio-pci (merged in {VersionThresholds.KernelNvgraceGpu.Major}.{VersionThresholds.KernelNvgraceGpu.Minor}) and the driver is not loaded: " +
                    $"Grace GPUs {list} cannot be passed through with their coherent memory. Boot Linux {VersionThresholds.KernelNvgraceGpu.Major}.{VersionThresholds.KernelNvgraceGpu.Minor} or newer, or a vendor kernel that carries the driver."));
            }
            else
            {
                findings.Add(new Finding(Severity.Error, "grace-variant-driver-missing", list,
                    $"The {GraceGpu.VariantDriver} driver is not loaded, so Grace GPUs {list} cannot be given to a guest with their " +
                    "coherent memory. Load it: 'modprobe nvgrace_gpu_vfio_pci' (CONFIG_NVGRACE_GPU_VFIO_PCI)."));
            }
        }
        return gpus;
    }

    /// <summary>"6.8.0-1008-nvidia-64k" → (6, 8); null when it does not start with major.minor.</summary>
    public static (int Major, int Minor)? KernelVersion(string? release)
    {
        if (release is null) return null;
        var parts = release.Split('.', 3);
        if (parts.Length < 2) return null;
        var minor = new string(parts[1].TakeWhile(char.IsAsciiDigit).ToArray());
        return int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ma) &&
               int.TryParse(minor, NumberStyles.None, CultureInfo.InvariantCulture, out var mi) ? (ma, mi) : null;
    }

    /// <summary>Each GPU's nodes as the SRAT states them, if Linux's numbering replays to what sysfs shows; else an error.</summary>
    private static Dictionary<PciAddress, IReadOnlyList<int>> NodesFromFirmware(List<PciDevice> gpus, IReadOnlyList<NumaNodeInfo> nodes, AcpiSrat srat, List<Finding> findings)
    {
        var result = new Dictionary<PciAddress, IReadOnlyList<int>>();
        var list = string.Join(",", gpus.Select(g => g.Address));
        var cpuNodes = srat.CpuProximityDomains.Select(srat.NodeOf).ToList();
        var sysfsCpuNodes = nodes.Where(n => n.HasCpus).Select(n => n.Id).Order().ToList();
        if (!srat.NodesKnown || cpuNodes.Any(n => n is null) || !cpuNodes.OfType<int>().Order().SequenceEqual(sysfsCpuNodes))
        {
            findings.Add(new Finding(Severity.Error, "grace-gi-nodes-undecidable", list,
                $"The SRAT states each Grace GPU's generic initiators by proximity domain, but Linux's numbering of those domains could not be " +
                $"replayed ({(srat.NodesKnown ? $"its CPU entries would be nodes {string.Join(",", cpuNodes)}, sysfs shows CPUs on {string.Join(",", sysfsCpuNodes)}" : "the table has generic-port entries")}), " +
                $"so which NUMA nodes belong to GPUs {string.Join(", ", gpus.Select(g => g.Address))} cannot be told. Report the SRAT ('acpidump -n SRAT') and 'numactl -H'."));
            return result;
        }
        foreach (var g in gpus)
        {
            var ids = srat.ProximityDomainsOf(g.Address).Select(p => srat.NodeOf(p)!.Value).ToList();
            var wrong = ids.Where(id => nodes.FirstOrDefault(n => n.Id == id) is not { HasCpus: false }).ToList();
            if (wrong.Count > 0)
            {
                findings.Add(new Finding(Severity.Error, "grace-gi-nodes-undecidable", g.Address.ToString(),
                    $"The SRAT gives GPU {g.Address} generic initiators on nodes {string.Join(",", ids)}, but node(s) {string.Join(",", wrong)} " +
                    "are not CPU-less online nodes in sysfs, so its nodes cannot be told. Report the SRAT ('acpidump -n SRAT') and 'numactl -H'."));
                continue;
            }
            if (ids.Count > 0) result[g.Address] = [.. ids.Order()];
        }
        return result;
    }

    private static Dictionary<PciAddress, IReadOnlyList<int>> AssignGiNodes(List<PciDevice> gpus, IReadOnlyList<NumaNodeInfo> nodes, List<Finding> findings, string sratUnreadable)
    {
        var result = new Dictionary<PciAddress, IReadOnlyList<int>>();
        // A CPU-less node with memory may be a GPU's first node with its memory online (nvidia driver): the memory-less
        // runs then no longer show where each GPU's block starts.
        var cpulessWithMemory = nodes.Where(n => !n.HasCpus && n.HasMemory).Select(n => n.Id).ToList();
        if (cpulessWithMemory.Count > 0)
        {
            findings.Add(new Finding(Severity.Error, "grace-gi-nodes-undecidable", string.Join(",", gpus.Select(g => g.Address)),
                $"Node(s) {string.Join(",", cpulessWithMemory)} have memory but no CPUs, as a Grace GPU's first node has when the nvidia driver onlined " +
                $"its memory, so which memory-less nodes belong to GPUs {string.Join(", ", gpus.Select(g => g.Address))} cannot be told from sysfs. " +
                $"The firmware's SRAT states it, but it could not be used: {sratUnreadable}. Run as root (/sys/firmware/acpi/tables/SRAT is readable " +
                "by root only), or give every GPU to nvgrace_gpu_vfio_pci so that their nodes are memory-less again."));
            return result;
        }
        var runs = MemorylessRuns(nodes);
        var claimants = runs.Select(_ => new List<PciDevice>()).ToList();
        var anchored = runs.Select(_ => new List<PciDevice>()).ToList();
        foreach (var g in gpus)
        {
            if (g.NumaNode is not { } n) continue;
            var inside = runs.FindIndex(r => r.Contains(n));
            if (inside >= 0)
            {
                anchored[inside].Add(g);
                continue;
            }
            var after = runs.FindIndex(r => r[0] > n);
            if (after >= 0) claimants[after].Add(g);
        }
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            if (anchored[i].Count > 0)
            {
                // Each GPU owns the nodes from its own to the next GPU's.
                var starts = anchored[i].Select(g => (Gpu: g, At: run.IndexOf(g.NumaNode!.Value))).OrderBy(s => s.At).ToList();
                for (var s = 0; s < starts.Count; s++)
                {
                    var end = s + 1 < starts.Count ? starts[s + 1].At : run.Count;
                    result[starts[s].Gpu.Address] = run.GetRange(starts[s].At, end - starts[s].At);
                }
                continue;
            }
            var sharing = claimants[i];
            if (sharing.Count == 0) continue;
            if (run.Count % sharing.Count != 0)
            {
                findings.Add(new Finding(Severity.Error, "grace-gi-nodes-ambiguous", string.Join(",", sharing.Select(g => g.Address)),
                    $"GPUs {string.Join(", ", sharing.Select(g => g.Address))} share {run.Count} memory-less NUMA nodes " +
                    $"({run[0]}-{run[^1]}), which do not split evenly among them, so which nodes belong to which GPU cannot be told. " +
                    "Check the firmware's SRAT (generic initiator entries) and report the layout."));
                continue;
            }
            var per = run.Count / sharing.Count;
            for (var s = 0; s < sharing.Count; s++) result[sharing[s].Address] = run.GetRange(s * per, per);
        }
        return result;
    }

    private static List<List<int>> MemorylessRuns(IReadOnlyList<NumaNodeInfo> nodes)
    {
        var runs = new List<List<int>>();
        foreach (var id in nodes.Where(n => n.IsMemoryless).Select(n => n.Id).Order())
        {
            if (runs.Count > 0 && runs[^1][^1] == id - 1) runs[^1].Add(id);
            else runs.Add([id]);
        }
        return runs;
    }
}
