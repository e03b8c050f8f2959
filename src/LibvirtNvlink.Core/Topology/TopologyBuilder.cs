using System.Globalization;
using LibvirtNvlink.DeviceTree;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Topology;

/// <summary>What the host-access layer read, before any NVLink2 reasoning.</summary>
/// <param name="NodeHasOnlineMemory">For a NUMA node: true when any of its memory blocks is online, false when none
/// is, null when that cannot be read.</param>
/// <param name="ReadFindings">Problems met while reading (dangling links, unreadable files).</param>
/// <param name="NumaNodes">Every online NUMA node; read only on hosts with Grace GPUs, empty elsewhere.</param>
/// <param name="KernelRelease">/proc/sys/kernel/osrelease, when the Grace checks need it.</param>
/// <param name="PciDriverLoaded">Whether /sys/bus/pci/drivers/NAME exists.</param>
/// <param name="Srat">The firmware's SRAT, read on hosts with Grace GPUs; null when it could not be read.</param>
/// <param name="SratUnreadable">Why <paramref name="Srat"/> is null, for the finding that needs it.</param>
public sealed record HostFacts(
    IReadOnlyList<PciDevice> Devices,
    IDeviceTree? DeviceTree,
    Func<int, bool?> NodeHasOnlineMemory,
    IReadOnlyList<Finding> ReadFindings,
    IReadOnlyList<NumaNodeInfo>? NumaNodes = null,
    string? KernelRelease = null,
    Func<string, bool>? PciDriverLoaded = null,
    AcpiSrat? Srat = null,
    string? SratUnreadable = null,
    GraceHostSupport? GraceSupport = null);

/// <summary>
/// Pairs GPUs with their NPU bridges from the device tree, the way the kernel (npu-dma.c, vfio_pci_nvlink2.c),
/// QEMU and libvirt each see them, and turns every inconsistency into a <see cref="Finding"/>.
/// </summary>
public static class TopologyBuilder
{
    private static readonly string[] LibvirtNv2Files = ["ibm,gpu", "ibm,nvlink", "ibm,nvlink-speed", "memory-region"];
    private static readonly string[] HostGpuDrivers = ["nvidia"];
    private static readonly string[] HostBridgeDrivers = ["ibmnpu", "nvidia"];

    public static HostTopology Build(HostFacts facts)
    {
        var findings = new List<Finding>(facts.ReadFindings);
        var devices = new SortedDictionary<PciAddress, PciDevice>();
        foreach (var d in facts.Devices) devices[d.Address] = d;
        var byNode = new Dictionary<string, PciDevice>(StringComparer.Ordinal);
        foreach (var d in devices.Values)
        {
            if (d.OfNode is not null) byNode.TryAdd(d.OfNode, d);
        }
        var ctx = new Context(facts.DeviceTree, byNode, findings, facts.NodeHasOnlineMemory);

        var bridges = new List<NpuBridge>();
        foreach (var d in devices.Values)
        {
            if (IsBridgeCandidate(d, facts.DeviceTree))
            {
                bridges.Add(ctx.ReadBridge(d));
            }
        }
        var bridgeMap = bridges.ToDictionary(b => b.Address);

        var gpus = new List<NvGpu>();
        foreach (var d in devices.Values)
        {
            if (d.Vendor == PciIds.VendorNvidia && d.IsDisplayClass && !PciIds.IsGraceGpuId(d.Vendor, d.Device))
            {
                gpus.Add(ctx.ReadGpu(d, bridgeMap));
            }
        }

        CheckReverseLinks(gpus, bridges, findings);
        CheckIommuGroups(devices, gpus, bridgeMap, findings);
        var numaNodes = facts.NumaNodes ?? [];
        var grace = GraceTopologyBuilder.Build(devices.Values, numaNodes, facts.KernelRelease, facts.PciDriverLoaded ?? (_ => false), findings,
            facts.Srat, facts.SratUnreadable);
        findings.Sort((a, b) =>
        {
            var c = b.Severity.CompareTo(a.Severity);
            return c != 0 ? c : string.CompareOrdinal(a.Device, b.Device);
        });
        return new HostTopology(devices, gpus, bridges, facts.DeviceTree is not null, findings)
        {
            GraceGpus = grace,
            NumaNodes = numaNodes,
            GraceSupport = facts.GraceSupport ?? GraceHostSupport.Unknown,
            KernelRelease = facts.KernelRelease,
        };
    }

    /// <summary>NPU bridges are IBM functions; one with an unexpected device ID still counts when its node has ibm,gpu.</summary>
    private static bool IsBridgeCandidate(PciDevice d, IDeviceTree? dt) =>
        PciIds.IsNpuBridgeId(d.Vendor, d.Device) ||
        (d.Vendor == PciIds.VendorIbm && dt is not null && d.OfNode is not null && dt.HasProperty(d.OfNode, "ibm,gpu"));

    private static void CheckReverseLinks(List<NvGpu> gpus, List<NpuBridge> bridges, List<Finding> findings)
    {
        var listedBy = new Dictionary<PciAddress, PciAddress>();
        foreach (var g in gpus)
        {
            foreach (var b in g.Bridges) listedBy[b] = g.Address;
        }
        foreach (var b in bridges)
        {
            if (b.Gpu is not { } gpu) continue;
            if (!listedBy.TryGetValue(b.Address, out var lister) || lister != gpu)
            {
                findings.Add(new Finding(Severity.Error, "bridge-not-listed-by-gpu", b.Address.ToString(),
                    $"NVLink bridge {b.Address} names GPU {gpu} in ibm,gpu, but that GPU's ibm,npu does not list it back. " +
                    "The kernel pairs GPUs and bridges through ibm,npu, so this link will not work; the device tree is " +
                    "inconsistent — update the system firmware (skiboot) or report it to the hardware vendor."));
            }
        }
    }

    private static void CheckIommuGroups(
        SortedDictionary<PciAddress, PciDevice> devices, List<NvGpu> gpus,
        Dictionary<PciAddress, NpuBridge> bridges, List<Finding> findings)
    {
        var owner = new Dictionary<PciAddress, PciAddress>();
        foreach (var g in gpus.Where(g => g.IsNvlink2))
        {
            owner[g.Address] = g.Address;
            foreach (var b in g.Bridges) owner[b] = g.Address;
        }

        foreach (var group in devices.Values.Where(d => d.IommuGroup is not null).GroupBy(d => d.IommuGroup!.Value))
        {
            var owners = group.Where(d => owner.ContainsKey(d.Address)).Select(d => owner[d.Address]).Distinct().Order().ToList();
            if (owners.Count > 1)
            {
                findings.Add(new Finding(Severity.Warning, "compound-iommu-group", string.Join(",", owners),
                    $"IOMMU group {group.Key} holds GPUs {string.Join(", ", owners)} and their bridges: they can only be " +
                    "assigned together, to one guest (kernels 5.0–5.12 group every GPU of a socket). To give GPUs to " +
                    "different guests, boot a kernel that forms one group per GPU."));
            }
        }

        foreach (var g in gpus.Where(g => g.IsNvlink2))
        {
            var gpuGroup = g.IommuGroup;
            var split = g.Bridges.Where(b => bridges.TryGetValue(b, out var nb) && nb.IommuGroup != gpuGroup).ToList();
            if (gpuGroup is not null && split.Count > 0)
            {
                findings.Add(new Finding(Severity.Error, "split-iommu-group", g.Address.ToString(),
                    $"GPU {g.Address} is in IOMMU group {gpuGroup} but its bridge(s) {string.Join(", ", split)} are in " +
                    "other groups. QEMU needs a GPU and its bridges on one guest PHB, and libvirt gives each IOMMU group " +
                    "its own PHB, so NVLink2 cannot work. Check the kernel's iommu grouping (pci=... / firmware)."));
            }
            foreach (var member in g.Bridges.Prepend(g.Address))
            {
                if (devices.TryGetValue(member, out var dev) && dev.IommuGroup is null)
                {
                    findings.Add(new Finding(Severity.Warning, "iommu-group-unknown", member.ToString(),
                        $"{member} has no readable iommu_group link: libvirt cannot isolate it on its own PHB and VFIO " +
                        "cannot use it. Boot with the IOMMU enabled and check /sys/bus/pci/devices/" + member + "/iommu_group."));
                }
            }
        }
    }

    private sealed class Context(
        IDeviceTree? dt,
        Dictionary<string, PciDevice> byNode,
        List<Finding> findings,
        Func<int, bool?> nodeHasOnlineMemory)
    {
        private readonly Dictionary<string, GpuMemoryWindow?> _memoryByNode = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ulong[]> _atsdByPhb = new(StringComparer.Ordinal);
        private readonly HashSet<(string Node, string Name)> _present = [];

        public NpuBridge ReadBridge(PciDevice d)
        {
            var at = d.Address.ToString();
            CheckDriver(d, HostBridgeDrivers, "bridge");
            if (dt is null || d.OfNode is null)
            {
                // A dangling or looping of_node link was already reported with its path; say nothing twice.
                if (!findings.Any(f => f.Device == at && f.Severity == Severity.Error))
                {
                    findings.Add(new Finding(Severity.Error, "bridge-without-of-node", at,
                        $"NVLink bridge {at} has no device-tree node (of_node), so its GPU, link and memory cannot be " +
                        "found. This host's firmware does not describe NVLink2; the bridge cannot be passed through usefully."));
                }
                return new NpuBridge(d.Address, null, null, null, null, null, null, d.IommuGroup, d.Driver, null, false);
            }
            var node = d.OfNode;

            PciAddress? gpu = null;
            if (Property(node, "ibm,gpu", at, required: true) is { } gpuBytes &&
                Decode(() => DtDecode.Phandle(gpuBytes, node + "/ibm,gpu"), at) is { } gpuPh)
            {
                var gpuNode = Resolve(gpuPh, node + "/ibm,gpu", at);
                if (gpuNode is not null)
                {
                    if (byNode.TryGetValue(gpuNode, out var gpuDev)) gpu = gpuDev.Address;
                    else findings.Add(new Finding(Severity.Error, "gpu-missing-from-pci", at,
                        $"NVLink bridge {at} belongs to GPU node {gpuNode}, but no PCI device has that node: the GPU is " +
                        "missing from PCI (failed to probe, or hidden). Power-cycle the host; if it persists the GPU needs service."));
                }
            }

            int? linkIndex = null;
            if (Property(node, "ibm,nvlink", at, required: true) is { } linkBytes &&
                Decode(() => DtDecode.Phandle(linkBytes, node + "/ibm,nvlink"), at) is { } linkPh &&
                Resolve(linkPh, node + "/ibm,nvlink", at) is { } linkNode)
            {
                if (Property(linkNode, "ibm,npu-link-index", at, required: true) is { } idx &&
                    Decode(() => DtDecode.U32(idx, linkNode + "/ibm,npu-link-index"), at) is { } li)
                {
                    linkIndex = (int)li;
                }
            }

            uint? speed = null;
            var speedBytes = Property(node, "ibm,nvlink-speed", at, required: false);
            if (speedBytes is null)
            {
                findings.Add(new Finding(Severity.Error, "missing-nvlink-speed", at,
                    $"NVLink bridge {at} has no ibm,nvlink-speed in its device-tree node {node}. libvirt (5.3+) then does " +
                    "not recognise it as an NVLink2 bridge and computes a locked-memory limit far too small for the GPU " +
                    "RAM window; QEMU also cannot tell the guest the link speed. Update skiboot, or set <memtune><hard_limit> " +
                    "(libvirt-nvlink transform --memlock write does it)."));
            }
            else
            {
                speed = Decode(() => DtDecode.U32(speedBytes, node + "/ibm,nvlink-speed"), at);
            }

            ulong? tgt = null;
            if (Property(node, "ibm,device-tgt-addr", at, required: true) is { } tgtBytes)
            {
                tgt = Decode(() => DtDecode.U64(tgtBytes, node + "/ibm,device-tgt-addr"), at);
            }

            GpuMemoryWindow? memory = null;
            if (Property(node, "memory-region", at, required: true) is { } memBytes &&
                Decode(() => DtDecode.Phandle(memBytes, node + "/memory-region"), at) is { } memPh &&
                Resolve(memPh, node + "/memory-region", at) is { } memNode)
            {
                memory = ReadMemory(memNode, at);
            }

            var atsd = linkIndex is { } l ? ReadAtsd(DtPath.Parent(node), l, at) : null;
            string? loc = null;
            if (dt.ReadPropertySafe(node, "ibm,loc-code") is { } locBytes)
            {
                loc = DecodeRef(() => DtDecode.String(locBytes, node + "/ibm,loc-code"), at);
            }

            // libvirt's test is existence of the four files; each was just read, so their presence is known.
            var libvirtSees = LibvirtNv2Files.All(f => _present.Contains((node, f)));
            return new NpuBridge(d.Address, gpu, linkIndex, speed, tgt, atsd, memory, d.IommuGroup, d.Driver, loc, libvirtSees);
        }

        public NvGpu ReadGpu(PciDevice d, Dictionary<PciAddress, NpuBridge> bridges)
        {
            var at = d.Address.ToString();
            CheckDriver(d, HostGpuDrivers, "GPU");
            var npu = dt is not null && d.OfNode is not null ? Property(d.OfNode, "ibm,npu", at, required: false) : null;
            if (npu is null)
            {
                if (PciIds.IsNv2GpuId(d.Vendor, d.Device) && dt is not null)
                {
                    findings.Add(new Finding(Severity.Warning, "gpu-without-npu", at,
                        $"GPU {at} is a V100 SXM2 but its device-tree node has no ibm,npu list: NVLink2 is not described " +
                        "by the firmware, so it can only be passed through as a plain PCI device (no GPU RAM in the guest)."));
                }
                else
                {
                    findings.Add(new Finding(Severity.Info, "plain-pci-gpu", at,
                        $"GPU {at} ({d.Vendor:x4}:{d.Device:x4}) has no NVLink2 bridges: it is assigned like any PCI " +
                        "device and LibvirtNvlink leaves it alone."));
                }
                return new NvGpu(d.Address, d.Vendor, d.Device, d.Driver, d.IommuGroup, d.NumaNode, [], null, IsNvlink2: false);
            }

            var phandles = DecodeRef(() => DtDecode.PhandleList(npu, d.OfNode + "/ibm,npu"), at) ?? [];
            var list = new List<PciAddress>();
            for (var i = 0; i < phandles.Length; i++)
            {
                var bridgeNode = Resolve(phandles[i], $"{d.OfNode}/ibm,npu[{i}]", at);
                if (bridgeNode is null) continue;
                if (byNode.TryGetValue(bridgeNode, out var bdev) && bridges.ContainsKey(bdev.Address))
                {
                    list.Add(bdev.Address);
                }
                else
                {
                    findings.Add(new Finding(Severity.Error, "bridge-missing-from-pci", at,
                        $"GPU {at} lists NVLink bridge node {bridgeNode} (ibm,npu entry {i}), but no PCI device has that " +
                        "node: the bridge is missing from PCI (the NPU PHB failed to probe or the link was fenced). The GPU " +
                        "cannot be passed through with NVLink2 until it is back; check dmesg for npu2 errors and reboot."));
                }
            }

            if (phandles.Length is not (2 or 3))
            {
                findings.Add(new Finding(Severity.Warning, "unusual-link-count", at,
                    $"GPU {at} lists {phandles.Length} NVLink bridge(s); Witherspoon GPUs have 2 (6-GPU systems) or 3 " +
                    "(4-GPU systems). QEMU accepts at most 3 links per GPU."));
            }

            var own = list.Select(b => bridges[b]).ToList();
            var memory = own.FirstOrDefault()?.Memory;
            if (own.Select(b => b.Tgt).Where(t => t is not null).Distinct().Count() > 1)
            {
                findings.Add(new Finding(Severity.Error, "bridge-tgt-mismatch", at,
                    $"The bridges of GPU {at} carry different ibm,device-tgt-addr values " +
                    $"({string.Join(", ", own.Select(b => $"{b.Address}=0x{b.Tgt:x}"))}). QEMU pairs a GPU with its bridges by " +
                    "equal tgt, so the guest would see the links split across GPUs. The firmware device tree is corrupt; update skiboot."));
            }
            if (own.Select(b => b.Memory?.NodePath).Where(m => m is not null).Distinct().Count() > 1)
            {
                findings.Add(new Finding(Severity.Error, "bridge-memory-mismatch", at,
                    $"The bridges of GPU {at} point at different memory-region nodes; all links of one GPU must " +
                    "describe the same GPU RAM. The firmware device tree is corrupt; update skiboot."));
            }
            if (memory is not null)
            {
                var expected = NpuAddressing.TgtFromHostAddress(memory.Address);
                foreach (var b in own.Where(b => b.Tgt is { } t && t != expected))
                {
                    findings.Add(new Finding(Severity.Warning, "tgt-not-compressed-address", b.Address.ToString(),
                        $"Bridge {b.Address} has tgt 0x{b.Tgt:x}, but the compressed form of its GPU RAM address " +
                        $"0x{memory.Address:x} is 0x{expected:x}. The GPU may route DMA to the wrong place."));
                }
                if (memory.OnlineOnHost)
                {
                    findings.Add(new Finding(Severity.Error, "gpu-ram-online", at,
                        $"The RAM of GPU {at} (0x{memory.Address:x}, NUMA node {memory.NumaNode}) is online on the host, " +
                        "so it cannot be passed through. Stop nvidia-persistenced and unload the nvidia driver " +
                        "(systemctl stop nvidia-persistenced; rmmod nvidia_uvm nvidia), then offline the node's memory blocks."));
                }
            }
            return new NvGpu(d.Address, d.Vendor, d.Device, d.Driver, d.IommuGroup, d.NumaNode, list, memory, IsNvlink2: true)
            {
                HasAllBridges = list.Count == phandles.Length && phandles.Length > 0,
            };
        }

        private void CheckDriver(PciDevice d, string[] hostDrivers, string what)
        {
            if (d.Driver is { } drv && hostDrivers.Contains(drv, StringComparer.Ordinal))
            {
                findings.Add(new Finding(Severity.Warning, "host-driver-bound", d.Address.ToString(),
                    $"{what} {d.Address} is bound to the host driver '{drv}', not vfio-pci. With managed='yes' libvirt " +
                    $"rebinds it at start; with managed='no' bind it first: virsh nodedev-detach pci_{d.Address.ToString().Replace(':', '_').Replace('.', '_')}."));
            }
        }

        private GpuMemoryWindow? ReadMemory(string memNode, string at)
        {
            if (_memoryByNode.TryGetValue(memNode, out var cached)) return cached;
            GpuMemoryWindow? window = null;
            if (Property(memNode, "reg", at, required: true) is { } reg &&
                DecodeRef(() => DtDecode.U64Array(reg, memNode + "/reg"), at) is { } cells)
            {
                if (cells.Length < 2)
                {
                    findings.Add(new Finding(Severity.Error, "bad-property", at,
                        $"{memNode}/reg holds {cells.Length} 64-bit value(s); a GPU RAM node needs address and size."));
                }
                else
                {
                    int? numa = null;
                    if (dt!.ReadPropertySafe(memNode, "ibm,associativity") is { } assoc &&
                        DecodeRef(() => DtDecode.U32Cells(assoc, memNode + "/ibm,associativity"), at) is { Length: > 0 } a)
                    {
                        numa = (int)a[^1];
                    }
                    var online = numa is { } n && nodeHasOnlineMemory(n) == true;
                    window = new GpuMemoryWindow(memNode, cells[0], cells[1], numa, online);
                }
            }
            _memoryByNode[memNode] = window;
            return window;
        }

        /// <summary>The kernel's lookup: ibm,mmio-atsd[link index], else entry 0 (old skiboot), else none.</summary>
        private ulong? ReadAtsd(string phbNode, int linkIndex, string at)
        {
            if (!_atsdByPhb.TryGetValue(phbNode, out var values))
            {
                var bytes = dt!.ReadPropertySafe(phbNode, "ibm,mmio-atsd");
                values = bytes is null ? [] : DecodeRef(() => DtDecode.U64Array(bytes, phbNode + "/ibm,mmio-atsd"), at) ?? [];
                _atsdByPhb[phbNode] = values;
            }
            if (linkIndex < values.Length) return values[linkIndex];
            if (values.Length > 0)
            {
                findings.Add(new Finding(Severity.Info, "atsd-fallback", at,
                    $"{phbNode}/ibm,mmio-atsd has no entry for link {linkIndex}; like the kernel, bridge {at} falls back " +
                    "to ATSD register 0 (old skiboot exposes only one). This works, with less ATS concurrency."));
                return values[0];
            }
            findings.Add(new Finding(Severity.Error, "no-atsd", at,
                $"The NPU PHB {phbNode} has no ibm,mmio-atsd register: vfio-pci (Linux 5.0–5.12) refuses to enable " +
                $"bridge {at} (\"No ATSD found\"), so the guest cannot start. Update skiboot."));
            return null;
        }

        private byte[]? Property(string node, string name, string at, bool required)
        {
            byte[]? bytes;
            try
            {
                bytes = dt!.ReadProperty(node, name);
            }
            catch (DeviceTreeAccessException e)
            {
                _present.Add((node, name));
                findings.Add(new Finding(Severity.Error, "unreadable-property", at, $"Cannot read {e.Path}: {e.Problem}."));
                return null;
            }
            if (bytes is not null) _present.Add((node, name));
            if (bytes is null && required)
            {
                findings.Add(new Finding(Severity.Error, "missing-property", at,
                    $"Device-tree node {node} of {at} has no {name} property; the kernel's NVLink2 support needs it. " +
                    "The firmware device tree is incomplete; update skiboot."));
            }
            return bytes;
        }

        private string? Resolve(uint phandle, string from, string at)
        {
            var path = dt!.ResolvePhandle(phandle);
            if (path is null)
            {
                findings.Add(new Finding(Severity.Error, "dangling-phandle", at,
                    $"{from} refers to phandle 0x{phandle.ToString("x", CultureInfo.InvariantCulture)}, which no device-tree node has."));
            }
            return path;
        }

        private T? Decode<T>(Func<T> decode, string at) where T : struct
        {
            try { return decode(); }
            catch (DeviceTreeFormatException e)
            {
                findings.Add(new Finding(Severity.Error, "bad-property", at, $"{at}: malformed device-tree property {e.PropertyPath}: {e.Problem}."));
                return null;
            }
        }

        private T? DecodeRef<T>(Func<T> decode, string at) where T : class
        {
            try { return decode(); }
            catch (DeviceTreeFormatException e)
            {
                findings.Add(new Finding(Severity.Error, "bad-property", at, $"{at}: malformed device-tree property {e.PropertyPath}: {e.Problem}."));
                return null;
            }
        }
    }
}

internal static class DeviceTreeExtensions
{
    /// <summary>For optional properties, where unreadable and absent mean the same to the caller.</summary>
    public static byte[]? ReadPropertySafe(this IDeviceTree dt, string node, string name)
    {
        try { return dt.ReadProperty(node, name); }
        catch (DeviceTreeAccessException) { return null; }
    }
}
