using System.Globalization;
using System.Text;
using LibvirtNvlink.DeviceTree;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Snapshot;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Simulation;

/// <summary>
/// Writes a host root laid out like the real kernel's: device directories under /sys/devices, relative symlinks
/// from /sys/bus/pci/devices, driver, iommu_group and of_node links, /sys/kernel/iommu_groups, the device tree
/// under /sys/firmware/devicetree/base (one file per property, big-endian cells), NUMA nodes and memory blocks.
/// </summary>
public sealed class SimulatedHostWriter
{
    public const ulong GpuRamWindow = 128UL << 30;
    private const ulong MemoryBlockSize = 256UL << 20;
    private readonly string _root;
    private readonly HostLayout _layout;
    private uint _nextPhandle = 1;
    private int _gpuLabel;
    private readonly Dictionary<string, uint> _phandles = new(StringComparer.Ordinal);

    private SimulatedHostWriter(string root, HostLayout layout)
    {
        _root = Path.GetFullPath(root);
        _layout = layout;
    }

    /// <summary>Writes the layout into an empty (or new) directory.</summary>
    public static void Write(HostLayout layout, string directory)
    {
        Validate(layout);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new IOException($"{directory} is not empty; a simulated host is written into a new directory.");
        }
        new SimulatedHostWriter(directory, layout).WriteAll();
        WriteManifest(directory);
    }

    /// <summary>
    /// The same MANIFEST.json a snapshot has, so a simulated host verifies like one and a real host's snapshot can sit
    /// next to the bundled ones in examples/hosts.
    /// </summary>
    private static void WriteManifest(string directory)
    {
        var tree = HostTree.ReadDirectory(directory, []);
        var manifest = tree.ToManifest([], redacted: false);
        File.WriteAllBytes(Path.Combine(directory, SnapshotManifest.FileName), manifest.ToJsonBytes());
    }

    public static void Validate(HostLayout layout)
    {
        if (layout.Platform is not ("powernv" or "x86" or "grace"))
        {
            throw new HostLayoutException($"layout {layout.Name}: platform must be 'powernv', 'x86' or 'grace', not '{layout.Platform}'");
        }
        if (layout.Grace is { } grace)
        {
            if (layout.Platform != "grace") throw new HostLayoutException($"layout {layout.Name}: a grace section needs platform 'grace'");
            if (grace.CpuNodes < 1) throw new HostLayoutException($"layout {layout.Name}: a Grace host has at least one CPU node");
            foreach (var g in grace.Gpus)
            {
                if (!PciAddress.TryParse(g.Address, out _, out var why)) throw new HostLayoutException($"layout {layout.Name}: {why}");
                if (g.CpuNode < 0 || g.CpuNode >= grace.CpuNodes) throw new HostLayoutException($"layout {layout.Name}: GPU {g.Address} is on CPU node {g.CpuNode}, which does not exist");
                if (g.Bars.Count > 3) throw new HostLayoutException($"layout {layout.Name}: GPU {g.Address} lists BAR0, BAR2 and BAR4 at most");
                if (g.Smmu is { } smmu && !IsSmmuName(smmu))
                {
                    throw new HostLayoutException($"layout {layout.Name}: GPU {g.Address} names SMMU '{smmu}'; arm-smmu-v3 names an instance smmu3.0x and its 16-digit MMIO base, e.g. smmu3.0x0000000016000000");
                }
            }
            if (grace.Kernel?.Iommufd is { } iommufd && iommufd is not ("y" or "m"))
            {
                throw new HostLayoutException($"layout {layout.Name}: CONFIG_IOMMUFD is 'y', 'm' or null (not set), not '{iommufd}'");
            }
        }
        foreach (var chip in layout.Chips)
        {
            foreach (var gpu in chip.Gpus)
            {
                if (gpu.Links is < 1 or > 6) throw new HostLayoutException($"layout {layout.Name}: a GPU has 1 to 6 links, not {gpu.Links}");
                foreach (var d in gpu.Defects ?? [])
                {
                    if (!GpuDefect.All.Contains(d)) throw new HostLayoutException($"layout {layout.Name}: unknown defect '{d}' (known: {string.Join(", ", GpuDefect.All)})");
                }
            }
        }
        foreach (var e in layout.ExtraDevices ?? [])
        {
            if (!PciAddress.TryParse(e.Address, out _, out var why)) throw new HostLayoutException($"layout {layout.Name}: {why}");
        }
    }

    private void WriteAll()
    {
        Directory.CreateDirectory(_root);
        WriteText("proc/sys/kernel/osrelease", _layout.KernelRelease);
        Directory.CreateDirectory(Full("sys/bus/pci/devices"));
        WriteText("sys/bus/pci/drivers_probe", "");
        Directory.CreateDirectory(Full("sys/kernel/iommu_groups"));
        Directory.CreateDirectory(Full("dev/vfio"));
        WriteText("dev/vfio/vfio", "");
        WriteText("sys/devices/system/memory/block_size_bytes", MemoryBlockSize.ToString("x", CultureInfo.InvariantCulture));

        var hasDt = _layout.Platform == "powernv";
        if (hasDt)
        {
            Node("/");
            Prop("/", "compatible", DtDecode.EncodeStrings("ibm,witherspoon", "ibm,powernv"));
            Prop("/", "model", DtDecode.EncodeStrings("9006-22P"));
            Link("proc/device-tree", "sys/firmware/devicetree/base");
        }

        var cpuNodes = new SortedSet<int>(_layout.Chips.Select(c => c.CpuNode));
        foreach (var e in _layout.ExtraDevices ?? []) cpuNodes.Add(e.NumaNode);
        if (_layout.Grace is { } grace)
        {
            for (var n = 0; n < grace.CpuNodes; n++) cpuNodes.Add(n);
        }
        var block = 0;
        foreach (var n in cpuNodes)
        {
            var dir = $"sys/devices/system/node/node{n}";
            WriteText($"{dir}/cpulist", $"{n * 4}-{n * 4 + 3}");
            WriteText($"{dir}/meminfo", $"Node {n} MemTotal:       268435456 kB");
            for (var i = 0; i < 2; i++, block++) MemoryBlock(dir, block, (ulong)block * MemoryBlockSize);
        }

        foreach (var chip in _layout.Chips) WriteChip(chip);
        if (_layout.Grace is { } g) WriteGrace(g);
        foreach (var e in _layout.ExtraDevices ?? [])
        {
            var a = PciAddress.Parse(e.Address);
            var dir = $"sys/devices/pci{a.Domain:x4}:00/{a}";
            PciDevice(dir, a, e.Vendor, e.Device, e.Class, e.NumaNode, e.Driver, e.IommuGroup, ofNode: null);
        }
    }

    private void WriteChip(ChipLayout chip)
    {
        var gpuPhb = $"/pciex@{0x600c3c0000000UL + ((ulong)chip.GpuDomain << 20):x}";
        var npuPhb = $"/pciex@{chip.NpuMmioBase:x}";
        var xscomNpu = $"/xscom@{0x603fc00000000UL + ((ulong)chip.ChipId << 42):x}/npu@5011000";
        Node(gpuPhb);
        Prop(gpuPhb, "compatible", DtDecode.EncodeStrings("ibm,power9-pciex", "ibm,ioda3-phb"));
        Prop(gpuPhb, "ibm,chip-id", DtDecode.EncodeU32((uint)chip.ChipId));
        Node(npuPhb);
        Prop(npuPhb, "compatible", DtDecode.EncodeStrings("ibm,power9-npu-pciex", "ibm,ioda2-npu2-phb"));
        Prop(npuPhb, "ibm,chip-id", DtDecode.EncodeU32((uint)chip.ChipId));
        var atsd = Enumerable.Range(0, chip.AtsdCount).Select(i => chip.NpuMmioBase + 0x800000UL + (ulong)i * 0x10000UL).ToArray();
        if (atsd.Length > 0) Prop(npuPhb, "ibm,mmio-atsd", DtDecode.EncodeU64(atsd));
        Node(xscomNpu);
        Prop(xscomNpu, "compatible", DtDecode.EncodeStrings("ibm,power9-npu"));

        // GPU-side PCIe: root port, switch upstream port; one downstream port per GPU.
        var rootPortAddr = new PciAddress(chip.GpuDomain, 0, 0, 0);
        var upstreamAddr = new PciAddress(chip.GpuDomain, 1, 0, 0);
        var rootDir = $"sys/devices/pci{chip.GpuDomain:x4}:00/{rootPortAddr}";
        var upDir = $"{rootDir}/{upstreamAddr}";
        PciDevice(rootDir, rootPortAddr, PciIds.VendorIbm, 0x04c1, 0x060400, chip.CpuNode, "pcieport", null, gpuPhb + "/pci@0");
        PciDevice(upDir, upstreamAddr, 0x10b5, 0x8725, 0x060400, chip.CpuNode, "pcieport", null, gpuPhb + "/pci@0/pci@0");
        Node(gpuPhb + "/pci@0/pci@0");

        for (var g = 0; g < chip.Gpus.Count; g++)
        {
            WriteGpu(chip, g, gpuPhb, npuPhb, xscomNpu, upDir);
            _gpuLabel++;
        }
    }

    private void WriteGpu(ChipLayout chip, int index, string gpuPhb, string npuPhb, string xscomNpu, string upDir)
    {
        var gpu = chip.Gpus[index];
        var defects = new HashSet<string>(gpu.Defects ?? [], StringComparer.Ordinal);
        var gpuAddr = new PciAddress(chip.GpuDomain, gpu.Bus, 0, 0);
        var downAddr = new PciAddress(chip.GpuDomain, 2, gpu.Bus, 0);
        var downNode = $"{gpuPhb}/pci@0/pci@0/pci@{gpu.Bus:x}";
        var gpuNode = $"{downNode}/3d-controller@0";
        var downDir = $"{upDir}/{downAddr}";
        PciDevice(downDir, downAddr, 0x10b5, 0x8725, 0x060400, chip.CpuNode, "pcieport", null, downNode);

        var ramAddress = chip.GpuRamBase + (ulong)index * GpuRamWindow;
        var memNode = $"/memory@{ramAddress:x}";
        Node(memNode);
        Prop(memNode, "device_type", DtDecode.EncodeStrings("memory"));
        Prop(memNode, "compatible", DtDecode.EncodeStrings("ibm,coherent-device-memory"));
        Prop(memNode, "reg", DtDecode.EncodeU64(ramAddress, GpuRamWindow));
        Prop(memNode, "ibm,associativity", DtDecode.EncodeU32(4, (uint)chip.ChipId, (uint)chip.ChipId, 0xffff, (uint)gpu.RamNumaNode));
        if (defects.Contains(GpuDefect.GpuRamOnline))
        {
            var dir = $"sys/devices/system/node/node{gpu.RamNumaNode}";
            WriteText($"{dir}/cpulist", "");
            WriteText($"{dir}/meminfo", $"Node {gpu.RamNumaNode} MemTotal:       16777216 kB");
            var first = (int)(ramAddress / MemoryBlockSize);
            for (var i = 0; i < 2; i++) MemoryBlock(dir, first + i, ramAddress + (ulong)i * MemoryBlockSize);
        }

        var tgt = NpuAddressing.TgtFromHostAddress(ramAddress);
        var bridgeNodes = new List<string>();
        for (var link = 0; link < gpu.Links; link++)
        {
            var baddr = new PciAddress(chip.NpuDomain, 0, index, link);
            var bnode = $"{npuPhb}/bridge@{(link == 0 ? index.ToString("x", CultureInfo.InvariantCulture) : $"{index:x},{link:x}")}";
            var linkIndex = index * gpu.Links + link;
            var linkNode = $"{xscomNpu}/link@{linkIndex:x}";
            bridgeNodes.Add(bnode);
            Node(linkNode);
            Prop(linkNode, "ibm,npu-link-index", DtDecode.EncodeU32((uint)linkIndex));
            Node(bnode);
            Prop(bnode, "ibm,gpu", DtDecode.EncodeU32(PhandleOf(gpuNode)));
            Prop(bnode, "ibm,nvlink", DtDecode.EncodeU32(PhandleOf(linkNode)));
            Prop(bnode, "memory-region", DtDecode.EncodeU32(PhandleOf(memNode)));
            if (!(link == 1 && defects.Contains(GpuDefect.MissingNvlinkSpeedOnLink1)))
            {
                Prop(bnode, "ibm,nvlink-speed", DtDecode.EncodeU32(8));
            }
            var btgt = link == 1 && defects.Contains(GpuDefect.TgtMismatchOnLink1) ? tgt + GpuRamWindow : tgt;
            var tgtBytes = DtDecode.EncodeU64(btgt);
            if (link == 0 && defects.Contains(GpuDefect.TruncatedTgtOnLink0)) tgtBytes = tgtBytes[..6];
            Prop(bnode, "ibm,device-tgt-addr", tgtBytes);
            Prop(bnode, "ibm,loc-code", DtDecode.EncodeStrings($"GPU{_gpuLabel}"));

            if (link == 1 && defects.Contains(GpuDefect.BridgeMissingFromPciLink1)) continue;
            var bdir = $"sys/devices/pci{chip.NpuDomain:x4}:00/{baddr}";
            string? of = bnode;
            if (link == 0 && defects.Contains(GpuDefect.DanglingOfNodeOnLink0)) of = bnode + "-gone";
            PciDevice(bdir, baddr, PciIds.VendorIbm, PciIds.DeviceNpu2Bridge, 0x068001, chip.CpuNode, gpu.BridgeDriver,
                gpu.BridgeIommuGroup ?? gpu.IommuGroup, of, createNode: false);
            if (link == 1 && defects.Contains(GpuDefect.OfNodeLoopOnLink1))
            {
                File.Delete(Full($"{bdir}/of_node"));
                Link($"{bdir}/of_node", $"{bdir}/of_node_loop");
                Link($"{bdir}/of_node_loop", $"{bdir}/of_node");
            }
        }

        PciDevice($"{downDir}/{gpuAddr}", gpuAddr, PciIds.VendorNvidia, PciIds.DeviceV100Sxm2, 0x030200, chip.CpuNode,
            gpu.Driver, gpu.IommuGroup, gpuNode);
        var listed = defects.Contains(GpuDefect.GpuNotListingLink1) ? bridgeNodes.Where((_, i) => i != 1) : bridgeNodes;
        Prop(gpuNode, "ibm,npu", DtDecode.EncodeU32([.. listed.Select(PhandleOf)]));
        Prop(gpuNode, "ibm,loc-code", DtDecode.EncodeStrings($"GPU{_gpuLabel}"));
    }

    /// <summary>The generic-initiator nodes, every node's distance row, and the GPUs with their BARs.</summary>
    private void WriteGrace(GraceLayout grace)
    {
        var socketOf = new Dictionary<int, int>();
        for (var n = 0; n < grace.CpuNodes; n++) socketOf[n] = n;
        var next = grace.CpuNodes;
        var withMemory = new List<int>();
        foreach (var gpu in grace.Gpus)
        {
            for (var i = 0; i < grace.GiNodesPerGpu; i++, next++)
            {
                socketOf[next] = gpu.CpuNode;
                var dir = $"sys/devices/system/node/node{next}";
                WriteText($"{dir}/cpulist", "");
                // The nvidia driver onlines all of a GPU's memory on its first node (about 180 GiB on a B200).
                var online = gpu.MemoryOnHost && i == 0;
                if (online) withMemory.Add(next);
                WriteText($"{dir}/meminfo", $"Node {next} MemTotal:      {(online ? 188743680 : 0),9} kB");
            }
        }
        Directory.CreateDirectory(Full("sys/firmware/acpi/tables"));
        File.WriteAllBytes(Full("sys/firmware/acpi/tables/SRAT"), SratWriter.Write(grace));
        var all = socketOf.Keys.Order().ToList();
        int Distance(int a, int b)
        {
            if (a == b) return 10;
            var cpuA = a < grace.CpuNodes;
            var cpuB = b < grace.CpuNodes;
            var sameSocket = socketOf[a] == socketOf[b];
            if (cpuA && cpuB) return 40;
            return sameSocket ? grace.CpuToGiDistance : grace.CpuToGiDistance + 40;
        }
        foreach (var n in all)
        {
            WriteText($"sys/devices/system/node/node{n}/distance", string.Join(' ', all.Select(m => Distance(n, m).ToString(CultureInfo.InvariantCulture))));
        }
        var cpuRange = grace.CpuNodes == 1 ? "0" : $"0-{grace.CpuNodes - 1}";
        WriteText("sys/devices/system/node/has_cpu", cpuRange);
        WriteText("sys/devices/system/node/has_memory", withMemory.Count == 0 ? cpuRange : $"{cpuRange},{string.Join(",", withMemory)}");
        WriteText("sys/devices/system/node/online", all.Count == 1 ? "0" : $"0-{all[^1]}");
        Directory.CreateDirectory(Full($"sys/bus/pci/drivers/{GraceGpu.VariantDriver}"));
        WriteText($"sys/bus/pci/drivers/{GraceGpu.VariantDriver}/bind", "");
        WriteText($"sys/bus/pci/drivers/{GraceGpu.VariantDriver}/unbind", "");

        foreach (var gpu in grace.Gpus)
        {
            var a = PciAddress.Parse(gpu.Address);
            var dir = GraceGpuDirectory(a);
            PciDevice(dir, a, PciIds.VendorNvidia, gpu.Device, 0x030200, gpu.CpuNode, gpu.Driver, gpu.IommuGroup, ofNode: null);
            if (gpu.DriverOverride is { } o) WriteText($"{dir}/driver_override", o);
            // resource: one line per BAR (a 64-bit BAR takes two), then the ROM; addresses as an arm64 host assigns them.
            var lines = new List<string>();
            var at = 0x650000000000UL + ((ulong)a.Domain << 40);
            for (var bar = 0; bar < 3; bar++)
            {
                var size = bar < gpu.Bars.Count ? gpu.Bars[bar] : 0;
                if (size == 0)
                {
                    lines.Add(ResourceLine(0, 0, 0));
                }
                else
                {
                    at = (at + size - 1) / size * size;
                    lines.Add(ResourceLine(at, at + size - 1, 0x14220c));
                    at += size;
                }
                lines.Add(ResourceLine(0, 0, 0));
            }
            lines.Add(ResourceLine(0, 0, 0));
            WriteText($"{dir}/resource", string.Join('\n', lines));
        }
        WriteSmmus(grace);
        WriteIommufd(grace);
    }

    private static bool IsSmmuName(string name) =>
        name.Length == GraceGpu.SmmuV3Prefix.Length + 18 && name.StartsWith(GraceGpu.SmmuV3Prefix + "0x", StringComparison.Ordinal) &&
        name[(GraceGpu.SmmuV3Prefix.Length + 2)..].All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// The host SMMUv3 instances as arm-smmu-v3 registers them: under their ACPI (IORT) platform device
    /// arm-smmu-v3.N.auto an iommu class device smmu3.0x…, linked from /sys/class/iommu, with a devices/ link per PCI
    /// device and the device's own iommu link back to it.
    /// </summary>
    private void WriteSmmus(GraceLayout grace)
    {
        var names = grace.Gpus.Select(g => g.Smmu).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < names.Count; i++)
        {
            var platform = $"sys/devices/platform/arm-smmu-v3.{i.ToString(CultureInfo.InvariantCulture)}.auto";
            var instance = $"{platform}/iommu/{names[i]}";
            Directory.CreateDirectory(Full($"{instance}/devices"));
            Link($"{instance}/device", platform);
            Link($"sys/class/iommu/{names[i]}", instance);
            foreach (var gpu in grace.Gpus.Where(g => g.Smmu == names[i]))
            {
                var dir = GraceGpuDirectory(PciAddress.Parse(gpu.Address));
                Link($"{instance}/devices/{gpu.Address}", dir);
                Link($"{dir}/iommu", instance);
            }
        }
    }

    /// <summary>
    /// iommufd and VFIO cdevs as the kernel offers them: /dev/iommu while iommufd is loaded; with
    /// CONFIG_VFIO_DEVICE_CDEV every device on a VFIO driver gets vfio-dev/vfioN in sysfs and /dev/vfio/devices/vfioN
    /// (stand-in files: a simulated host has no character devices); the kernel configuration in /boot/config-RELEASE.
    /// </summary>
    private void WriteIommufd(GraceLayout grace)
    {
        var k = grace.Kernel ?? GraceKernelLayout.Default;
        if (k.Iommufd is not null && k.IommufdLoaded) WriteText("dev/iommu", "");
        var cdevs = k.Iommufd is not null && k.VfioDeviceCdev;
        if (cdevs)
        {
            var n = 0;
            foreach (var gpu in grace.Gpus.Where(g => g.Driver is GraceGpu.VariantDriver or "vfio-pci"))
            {
                var name = $"vfio{n.ToString(CultureInfo.InvariantCulture)}";
                WriteText($"{GraceGpuDirectory(PciAddress.Parse(gpu.Address))}/vfio-dev/{name}/dev", $"236:{n.ToString(CultureInfo.InvariantCulture)}");
                WriteText($"dev/vfio/devices/{name}", "");
                n++;
            }
        }
        if (!k.ConfigFile) return;
        static string Option(string name, string? value) => value is null ? $"# CONFIG_{name} is not set" : $"CONFIG_{name}={value}";
        WriteText($"boot/config-{_layout.KernelRelease}", string.Join('\n',
        [
            "#",
            "# Automatically generated file; DO NOT EDIT.",
            $"# Linux/arm64 {_layout.KernelRelease} Kernel Configuration",
            "#",
            "CONFIG_ARM64=y",
            "CONFIG_ARM_SMMU_V3=y",
            "CONFIG_ARM_SMMU_V3_SVA=y",
            Option("ARM_SMMU_V3_IOMMUFD", k.Iommufd is not null && k.ArmSmmuV3Iommufd ? "y" : null),
            Option("TEGRA241_CMDQV", k.Tegra241Cmdqv ? "y" : null),
            Option("IOMMUFD", k.Iommufd),
            "CONFIG_VFIO=m",
            Option("VFIO_DEVICE_CDEV", cdevs ? "y" : null),
            "CONFIG_VFIO_PCI_CORE=m",
            "CONFIG_VFIO_PCI=m",
            "CONFIG_NVGRACE_GPU_VFIO_PCI=m",
        ]));
    }

    private static string GraceGpuDirectory(PciAddress a) => $"sys/devices/pci{a.Domain:x4}:00/{a}";

    private static string ResourceLine(ulong start, ulong end, ulong flags) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{start:x16} 0x{end:x16} 0x{flags:x16}");

    private void PciDevice(string dir, PciAddress a, int vendor, int device, int cls, int numa, string? driver, int? group,
        string? ofNode, bool createNode = true)
    {
        WriteText($"{dir}/vendor", $"0x{vendor:x4}");
        WriteText($"{dir}/device", $"0x{device:x4}");
        WriteText($"{dir}/class", $"0x{cls:x6}");
        WriteText($"{dir}/numa_node", numa.ToString(CultureInfo.InvariantCulture));
        // Writable attributes as the kernel has them (empty here: a simulated host only records what is written).
        WriteText($"{dir}/driver_override", "(null)");
        Link($"sys/bus/pci/devices/{a}", dir);
        if (driver is not null)
        {
            Directory.CreateDirectory(Full($"sys/bus/pci/drivers/{driver}"));
            if (!File.Exists(Full($"sys/bus/pci/drivers/{driver}/unbind")))
            {
                WriteText($"sys/bus/pci/drivers/{driver}/bind", "");
                WriteText($"sys/bus/pci/drivers/{driver}/unbind", "");
            }
            Link($"{dir}/driver", $"sys/bus/pci/drivers/{driver}");
            Link($"sys/bus/pci/drivers/{driver}/{a}", dir);
        }
        if (group is { } g)
        {
            Directory.CreateDirectory(Full($"sys/kernel/iommu_groups/{g}/devices"));
            Link($"{dir}/iommu_group", $"sys/kernel/iommu_groups/{g}");
            Link($"sys/kernel/iommu_groups/{g}/devices/{a}", dir);
            if (!File.Exists(Full($"dev/vfio/{g}"))) WriteText($"dev/vfio/{g}", "");
        }
        if (ofNode is not null && _layout.Platform == "powernv")
        {
            if (createNode) Node(ofNode);
            Link($"{dir}/of_node", "sys/firmware/devicetree/base" + ofNode);
        }
    }

    private void MemoryBlock(string nodeDir, int index, ulong address)
    {
        var mem = $"sys/devices/system/memory/memory{index}";
        WriteText($"{mem}/state", "online");
        WriteText($"{mem}/online", "1");
        WriteText($"{mem}/phys_index", (address / MemoryBlockSize).ToString("x8", CultureInfo.InvariantCulture));
        Link($"{nodeDir}/memory{index}", mem);
    }

    private void Node(string path)
    {
        Directory.CreateDirectory(Full(DtDir(path)));
        var name = path == "/" ? "" : path[(path.LastIndexOf('/') + 1)..];
        Prop(path, "name", DtDecode.EncodeStrings(name.Split('@')[0]));
        Prop(path, _layout.LegacyPhandles ? "linux,phandle" : "phandle", DtDecode.EncodeU32(PhandleOf(path)));
    }

    private uint PhandleOf(string nodePath)
    {
        if (!_phandles.TryGetValue(nodePath, out var p))
        {
            p = _nextPhandle++;
            _phandles[nodePath] = p;
        }
        return p;
    }

    private void Prop(string node, string name, byte[] value)
    {
        var path = Full(DtDir(node) + "/" + name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, value);
    }

    private static string DtDir(string node) => "sys/firmware/devicetree/base" + (node == "/" ? "" : node);

    private void WriteText(string relative, string text)
    {
        var path = Full(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.Length == 0 ? "" : text + "\n", new UTF8Encoding(false));
    }

    /// <summary>Creates a relative symlink at <paramref name="relative"/> pointing at <paramref name="targetRelative"/>.</summary>
    private void Link(string relative, string targetRelative)
    {
        var path = Full(relative);
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        File.CreateSymbolicLink(path, Path.GetRelativePath(dir, Full(targetRelative)));
    }

    private string Full(string relative) => Path.Combine(_root, relative);
}
