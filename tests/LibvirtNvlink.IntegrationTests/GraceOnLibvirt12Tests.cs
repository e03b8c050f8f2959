using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Tests;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// Every Grace golden output, in both forms (&lt;acpi nodeset&gt; for libvirt 11.8+, &lt;qemu:commandline&gt; before), on the
/// libvirt and QEMU that implement them (Debian unstable's 12.8 and 11.1): libvirt's schema, define, dumpxml, and the
/// QEMU command line libvirt makes of it, read back and compared with the simulated host the output was made for.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public class GraceOnLibvirt12Tests(SidLibvirtd libvirtd)
{
    public static TheoryData<string> GraceOutputs() =>
        [.. GoldenCase.All().Where(c => c.Name.StartsWith("grace-", StringComparison.Ordinal)).Select(c => c.Name)];

    public static TheoryData<string> GraceHosts() =>
        [.. GoldenCase.All().Where(c => c.Name.StartsWith("grace-", StringComparison.Ordinal)).Select(c => c.Host).Distinct()];

    private static readonly XNamespace Qemu = QemuCommandLine.Ns;

    [Theory]
    [MemberData(nameof(GraceOutputs))]
    public void Grace_output_as_written_passes_libvirt_12s_own_schema(string name)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var c = GoldenCase.Named(name);
        var file = Path.Combine(libvirtd.Directory, "schema-" + name + ".xml");
        File.Copy(c.OutputPath, file, overwrite: true);
        var r = libvirtd.Validate(file);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    [Theory]
    [MemberData(nameof(GraceOutputs))]
    public void Grace_output_is_defined_by_libvirt_12_and_dumpxml_keeps_everything_of_ours(string name)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var c = GoldenCase.Named(name);
        var domainName = "l12-" + name;
        var doc = ForThisMachine(c, domainName);
        libvirtd.Define(doc, domainName);
        try
        {
            var dump = libvirtd.Virsh("dumpxml", "--inactive", domainName);
            Assert.True(dump.ExitCode == 0, dump.Output);
            var defined = XDocument.Parse(dump.Stdout).Root!;
            var written = doc.Root!;

            Assert.Equal(Hostdevs(written), Hostdevs(defined));
            // Guest addresses we wrote (the expander layout's root ports) stay; libvirt fills in the rest.
            Assert.Equal(GuestBuses(written, onlyWritten: written), GuestBuses(defined, onlyWritten: written));
            Assert.Equal(Cells(written), Cells(defined));
            // libvirt completes the matrix it keeps: our distances stay, what it adds mirrors them.
            var ours = Distances(written);
            var kept = Distances(defined);
            Assert.All(ours, d => Assert.Equal(d.Value, kept.GetValueOrDefault(d.Key)));
            Assert.All(kept.Where(d => !ours.ContainsKey(d.Key)), d =>
                Assert.Equal(d.Key.From == d.Key.To ? 10 : ours.GetValueOrDefault((d.Key.To, d.Key.From)), d.Value));
            Assert.Equal(written.Descendants(Qemu + "arg").Select(a => (string?)a.Attribute("value")),
                defined.Descendants(Qemu + "arg").Select(a => (string?)a.Attribute("value")));
            var record = written.Element("metadata")!.Element(TransformRecord.RootName)!;
            var keptRecord = defined.Element("metadata")?.Element(TransformRecord.RootName);
            Assert.NotNull(keptRecord);
            Assert.Equal(record.Elements().Select(e => e.ToString(SaveOptions.DisableFormatting)),
                keptRecord.Elements().Select(e => e.ToString(SaveOptions.DisableFormatting)));
        }
        finally
        {
            libvirtd.Virsh("undefine", "--nvram", domainName);
        }
    }

    [Theory]
    [MemberData(nameof(GraceOutputs))]
    public void Grace_output_gives_QEMU_a_generic_initiator_and_a_memoryless_node_per_host_node_the_hosts_distances_and_the_MMIO_window(string name)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var c = GoldenCase.Named(name);
        var qemu = NativeTopology(c);
        var host = SimulatedHosts.Topology(c.Layout);
        var hostOf = HostNodeOfEachGuestNode(c, host);

        var gpus = GraceGpusOf(c, host);
        foreach (var (gpu, guestNodes) in gpus)
        {
            // One initiator per host generic-initiator node, on the GPU's own hostdev, and one memory-less node each.
            Assert.Equal(gpu.GiNodes.Count, guestNodes.Count);
            Assert.Equal(guestNodes.Order(), qemu.GenericInitiators.Where(g => g.HostDevice == gpu.Address.ToString()).Select(g => g.Node).Order());
            Assert.Equal(gpu.GiNodes, guestNodes.Select(n => hostOf[n]));
            Assert.All(guestNodes, n => Assert.True(qemu.Nodes.TryGetValue(n, out var node) && node.IsMemoryless, $"guest node {n} is not a memory-less -numa node"));
        }
        Assert.Equal(gpus.Sum(g => g.GuestNodes.Count), qemu.GenericInitiators.Count);
        Assert.Equal(hostOf.Keys.Order(), qemu.Nodes.Keys.Order());

        // A complete matrix: QEMU refuses an incomplete one, and every pair with a GPU node is the host's distance.
        var giGuestNodes = gpus.SelectMany(g => g.GuestNodes).ToHashSet();
        foreach (var a in qemu.Nodes.Keys)
        {
            foreach (var b in qemu.Nodes.Keys.Where(b => b != a))
            {
                var d = qemu.Distance(a, b);
                Assert.True(d is not null, $"no distance between guest nodes {a} and {b}");
                if (giGuestNodes.Contains(a) || giGuestNodes.Contains(b))
                {
                    Assert.True(host.NumaNode(hostOf[a])!.Distances[hostOf[b]] == d,
                        $"guest {a}→{b} is {d}, host {hostOf[a]}→{hostOf[b]} is {host.NumaNode(hostOf[a])!.Distances[hostOf[b]]}");
                }
            }
        }

        // The 64-bit window holds every GPU's 64-bit BARs, where QEMU has the property.
        var needed = GraceAssignment.MmioWindowFor(gpus.Select(g => g.Gpu));
        if (c.Qemu is { } q && q.CompareTo(Versions.VersionThresholds.QemuHighmemMmioSize) >= 0 && needed > GraceAssignment.VirtDefaultHighMmio)
        {
            Assert.NotNull(qemu.HighmemMmioSize);
            var window = QemuCommandLine.ParseQemuSize(qemu.HighmemMmioSize);
            Assert.True(window >= gpus.Aggregate(0UL, (s, g) => s + g.Gpu.Mmio64Bytes), $"highmem-mmio-size={qemu.HighmemMmioSize}");
            Assert.Equal(QemuCommandLine.QemuSize(GraceAssignment.MmioWindowFor(gpus.Select(g => g.Gpu))), qemu.HighmemMmioSize);
        }
        else
        {
            Assert.Null(qemu.HighmemMmioSize);
        }
    }

    public static TheoryData<string> ExpanderOutputs() =>
    [
        .. GoldenCase.All().Where(c => c.Name.StartsWith("grace-", StringComparison.Ordinal) &&
                                       Record(c).Elements(TransformRecord.Ns + "grace-expander").Any()).Select(c => c.Name),
    ];

    /// <summary>
    /// The expander layout as QEMU gets it from libvirt 12.8: a pxb-pcie per host SMMU (and guest cell) of the GPUs, on the
    /// guest cell that stands for their CPU node; a pcie-root-port per GPU under it with the GPU's vfio-pci on it; an
    /// accelerated arm-smmuv3 on each expander (primary-bus) and the GPUs on the iommufd object where the output asks for them.
    /// </summary>
    [Theory]
    [MemberData(nameof(ExpanderOutputs))]
    public void Expander_output_gives_QEMU_a_pxb_pcie_on_the_GPUs_node_per_host_SMMU_a_root_port_per_GPU_and_the_SMMU_and_iommufd_it_asks_for(string name)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var c = GoldenCase.Named(name);
        var qemu = NativeTopology(c);
        var host = SimulatedHosts.Topology(c.Layout);
        var hostOf = HostNodeOfEachGuestNode(c, host);
        var record = Record(c);
        var byId = qemu.Devices.Where(d => d.ContainsKey("id")).ToDictionary(d => d["id"]);
        var sources = HostdevSources(c);
        var vfioOf = qemu.Devices.Where(d => d.GetValueOrDefault("driver") == "vfio-pci")
            .ToDictionary(d => d.TryGetValue("host", out var h) ? h : sources[int.Parse(d["id"]["hostdev".Length..], System.Globalization.CultureInfo.InvariantCulture)]);

        var expanders = record.Elements(TransformRecord.Ns + "grace-expander")
            .Select(e => (Index: Int((string?)e.Attribute("index")), Node: Int((string?)e.Attribute("node")), Smmu: (string)e.Attribute("smmu")!)).ToList();
        var ports = record.Elements(TransformRecord.Ns + "grace-root-port")
            .Select(e => (Index: Int((string?)e.Attribute("index")), Gpu: host.GraceGpuAt(PciAddress.Parse((string)e.Attribute("source")!))!, Expander: Int((string?)e.Attribute("expander")))).ToList();
        Assert.NotEmpty(expanders);
        Assert.Equal(GraceGpusOf(c, host).Select(g => g.Gpu.Address).Order(), ports.Select(p => p.Gpu.Address).Order());
        foreach (var x in expanders)
        {
            var pxb = byId[$"pci.{x.Index}"];
            Assert.Equal("pxb-pcie", pxb["driver"]);
            Assert.Equal("pcie.0", pxb["bus"]);
            Assert.Equal(x.Node.ToString(System.Globalization.CultureInfo.InvariantCulture), pxb.GetValueOrDefault("numa_node"));
            var under = ports.Where(p => p.Expander == x.Index).ToList();
            Assert.NotEmpty(under);
            // One host SMMU per expander, and the cell it is on stands for the GPUs' CPU node.
            Assert.All(under, p => Assert.Equal(x.Smmu, p.Gpu.Smmu));
            Assert.All(under, p => Assert.Equal(p.Gpu.NumaNode, hostOf[x.Node]));
        }
        // No two expanders for one host SMMU on one cell, and none for GPUs of two SMMUs.
        Assert.Equal(expanders.Count, expanders.Select(x => (x.Smmu, x.Node)).Distinct().Count());
        Assert.Equal(ports.Select(p => (p.Gpu.Smmu, hostOf[expanders.Single(x => x.Index == p.Expander).Node])).Distinct().Count(), expanders.Count);
        foreach (var p in ports)
        {
            var port = byId[$"pci.{p.Index}"];
            Assert.Equal("pcie-root-port", port["driver"]);
            Assert.Equal($"pci.{p.Expander}", port["bus"]);
            Assert.Equal($"pci.{p.Index}", vfioOf[p.Gpu.Address.ToString()]["bus"]);
        }

        var smmus = qemu.Devices.Where(d => d.GetValueOrDefault("driver") == "arm-smmuv3").ToList();
        var added = record.Elements(TransformRecord.Ns + "added-iommu").Select(e => Int((string?)e.Attribute("pci-bus"))).ToList();
        Assert.Equal(added.Select(b => $"pci.{b}").Order(), smmus.Select(d => d["primary-bus"]).Order());
        foreach (var smmu in smmus)
        {
            Assert.Equal("true", smmu["accel"]);
            foreach (var (option, value) in GraceLayoutPlan.SmmuOptions.Where(o => o.Name != "accel")) Assert.Equal(value, smmu[option]);
        }
        var iommufd = record.Elements(TransformRecord.Ns + "added-iommufd").Select(e => (string)e.Attribute("source")!).ToHashSet();
        var backend = qemu.Objects.SingleOrDefault(o => o.GetValueOrDefault("qom-type") == "iommufd");
        Assert.Equal(iommufd.Count > 0, backend is not null);
        foreach (var p in ports)
        {
            var vfio = vfioOf[p.Gpu.Address.ToString()];
            if (iommufd.Contains(p.Gpu.Address.ToString())) Assert.Equal(backend!["id"], vfio["iommufd"]);
            else Assert.False(vfio.ContainsKey("iommufd"));
        }
        // The accelerated SMMU translates for iommufd devices only: every GPU under one is on iommufd.
        Assert.All(ports.Where(p => added.Contains(p.Expander)), p => Assert.Contains(p.Gpu.Address.ToString(), iommufd));
    }

    [Theory]
    [MemberData(nameof(GraceHosts))]
    public void The_acpi_nodeset_form_and_the_qemu_commandline_form_give_QEMU_the_same_topology(string hostName)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var cases = GoldenCase.All().Where(c => c.Name.StartsWith("grace-", StringComparison.Ordinal) && c.Host == hostName).ToList();
        var acpi = cases.Where(c => c.Libvirt >= VersionThresholds.LibvirtAcpiNodeset).ToList();
        var commandline = cases.Where(c => c.Libvirt < VersionThresholds.LibvirtAcpiNodeset).ToList();
        Assert.NotEmpty(acpi);
        Assert.NotEmpty(commandline);
        // Cases that assign the same GPUs (the layouts and targets differ, the GPUs' nodes must not).
        string Gpus(GoldenCase c) => string.Join(",", Record(c).Elements(TransformRecord.Ns + "grace-gpu").Select(e => (string?)e.Attribute("source")).Order(StringComparer.Ordinal));
        Assert.All(acpi, a => Assert.Contains(commandline, b => Gpus(b) == Gpus(a)));
        foreach (var a in acpi)
        {
            var reference = NativeTopology(a);
            foreach (var b in commandline.Where(b => Gpus(b) == Gpus(a)))
            {
                var other = NativeTopology(b);
                Assert.Equal(Shape(reference), Shape(other));
                Assert.Equal(reference.GenericInitiators.Order(), other.GenericInitiators.Order());
                foreach (var x in reference.Nodes.Keys)
                {
                    foreach (var y in reference.Nodes.Keys.Where(y => y != x))
                    {
                        Assert.True(reference.Distance(x, y) == other.Distance(x, y), $"{a.Name} and {b.Name} differ on {x}→{y}");
                    }
                }
                if (a.Qemu?.CompareTo(Versions.VersionThresholds.QemuHighmemMmioSize) >= 0 && b.Qemu?.CompareTo(Versions.VersionThresholds.QemuHighmemMmioSize) >= 0)
                {
                    Assert.Equal(reference.HighmemMmioSize, other.HighmemMmioSize);
                }
            }
        }
    }

    [Fact]
    public void The_Grace_version_gates_agree_with_libvirt_12s_NEWS_and_what_QEMU_11_accepts()
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        const string qemu = "/usr/bin/qemu-system-aarch64";
        var gi = libvirtd.Tool(qemu, ["-object", "acpi-generic-initiator,help"]);
        Assert.True(gi.ExitCode == 0 && gi.Output.Contains("pci-dev=", StringComparison.Ordinal) && gi.Output.Contains("node=", StringComparison.Ordinal), gi.Output);
        var virt = libvirtd.Tool(qemu, ["-machine", "virt,help"]);
        Assert.Contains("highmem-mmio-size=", virt.Output, StringComparison.Ordinal);

        var version = libvirtd.Virsh("version", "--daemon");
        var running = System.Text.RegularExpressions.Regex.Match(version.Stdout, @"Running hypervisor: QEMU (\d+)\.(\d+)\.(\d+)");
        var library = System.Text.RegularExpressions.Regex.Match(version.Stdout, @"Running against daemon: (\S+)");
        Assert.True(running.Success && library.Success, version.Output);
        var q = (Int(running.Groups[1].Value), Int(running.Groups[2].Value));
        Assert.True(q.CompareTo(Versions.VersionThresholds.QemuGenericInitiator) >= 0 && q.CompareTo(Versions.VersionThresholds.QemuHighmemMmioSize) >= 0);
        Assert.Equal(false, Versions.TargetQemu.SwapsGiDeviceHandle(q, Int(running.Groups[3].Value)));
        Assert.True(Versions.LibvirtVersion.TryParse(library.Groups[1].Value, out var daemon) && daemon >= VersionThresholds.LibvirtAcpiNodeset, version.Output);

        // The releases that brought what the gates stand for, from the NEWS file libvirt ships.
        var news = libvirtd.Tool("/bin/sh", ["-c", "zcat /usr/share/doc/libvirt-common/NEWS.gz"]);
        Assert.True(news.ExitCode == 0, news.Output);
        Assert.Equal(VersionThresholds.LibvirtAcpiNodeset, ReleaseMentioning(news.Stdout, "``nodeset`` attribute to specify the NUMA node affinity"));
        Assert.Equal(VersionThresholds.LibvirtDriverModel, ReleaseMentioning(news.Stdout, "``<driver model="));
    }

    /// <summary>
    /// The expander layout's gates, as far as this libvirt and QEMU can prove them: both are at or past every gate, the
    /// schema has each attribute the transform writes, QEMU has each property libvirt makes of them, and NEWS dates the
    /// per-hostdev iommufd. The earlier releases (libvirt 11.10 for pciBus, QEMU 10.2, 11.0) come from upstream's own
    /// words in VersionThresholds; a newer binary cannot show where a feature began.
    /// </summary>
    [Fact]
    public void The_expander_layouts_gates_agree_with_libvirt_12s_schema_and_NEWS_and_what_QEMU_11_accepts()
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        const string qemu = "/usr/bin/qemu-system-aarch64";
        var smmu = libvirtd.Tool(qemu, ["-device", "arm-smmuv3,help"]);
        foreach (var property in new[] { "primary-bus=", "accel=", "ats=", "ril=", "ssidsize=", "oas=", "cmdqv=" })
        {
            Assert.True(smmu.Output.Contains(property, StringComparison.Ordinal), $"arm-smmuv3 has no {property}: {smmu.Output}");
        }
        Assert.Contains("fd=", libvirtd.Tool(qemu, ["-object", "iommufd,help"]).Output, StringComparison.Ordinal);
        Assert.Contains("iommufd=", libvirtd.Tool(qemu, ["-device", "vfio-pci,help"]).Output, StringComparison.Ordinal);
        Assert.Contains("numa_node=", libvirtd.Tool(qemu, ["-device", "pxb-pcie,help"]).Output, StringComparison.Ordinal);

        var version = libvirtd.Virsh("version", "--daemon");
        var running = System.Text.RegularExpressions.Regex.Match(version.Stdout, @"Running hypervisor: QEMU (\d+)\.(\d+)\.");
        var library = System.Text.RegularExpressions.Regex.Match(version.Stdout, @"Running against daemon: (\S+)");
        Versions.LibvirtVersion? daemon = null;
        Assert.True(running.Success && library.Success && Versions.LibvirtVersion.TryParse(library.Groups[1].Value, out var d) && (daemon = d) is not null, version.Output);
        var q = (Int(running.Groups[1].Value), Int(running.Groups[2].Value));
        Assert.All(new[] { VersionThresholds.QemuIommufd, VersionThresholds.QemuSmmuv3Device, VersionThresholds.QemuSmmuv3Accel, VersionThresholds.QemuSmmuv3Cmdqv },
            gate => Assert.True(q.CompareTo(gate) >= 0, $"QEMU {q} is older than the gate {gate}"));
        Assert.All(new[] { VersionThresholds.LibvirtSmmuv3PciBus, VersionThresholds.LibvirtHostdevIommufd, VersionThresholds.LibvirtSmmuv3Accel },
            gate => Assert.True(daemon >= gate, $"libvirt {daemon} is older than the gate {gate}"));

        var schema = libvirtd.Tool("/bin/cat", ["/usr/share/libvirt/schemas/domaincommon.rng"]).Stdout;
        var iommu = schema[schema.IndexOf("<define name=\"iommu\">", StringComparison.Ordinal)..];
        iommu = iommu[..iommu.IndexOf("</define>", StringComparison.Ordinal)];
        foreach (var attribute in GraceLayoutPlan.SmmuOptions.Select(o => o.Name).Append("pciBus").Append("cmdqv"))
        {
            Assert.Contains($"<attribute name=\"{attribute}\">", iommu, StringComparison.Ordinal);
        }
        Assert.Contains("<attribute name=\"iommufd\">", libvirtd.Tool("/bin/cat", ["/usr/share/libvirt/schemas/basictypes.rng"]).Stdout, StringComparison.Ordinal);
        var news = libvirtd.Tool("/bin/sh", ["-c", "zcat /usr/share/doc/libvirt-common/NEWS.gz"]).Stdout;
        Assert.Contains($"Introduced in v{VersionThresholds.LibvirtHostdevIommufd} by implementing IOMMUFD backend support", news, StringComparison.Ordinal);
    }

    /// <summary>The release whose NEWS section (headed "vX.Y.Z (date)") first mentions <paramref name="text"/>, reading oldest last.</summary>
    private static Versions.LibvirtVersion? ReleaseMentioning(string news, string text)
    {
        Versions.LibvirtVersion? release = null;
        Versions.LibvirtVersion? found = null;
        foreach (var line in news.Split('\n'))
        {
            var head = System.Text.RegularExpressions.Regex.Match(line, @"^v(\d+\.\d+\.\d+) \(");
            if (head.Success && Versions.LibvirtVersion.TryParse(head.Groups[1].Value, out var v)) release = v;
            if (line.Contains(text, StringComparison.Ordinal)) found = release;
        }
        return found;
    }

    private static IEnumerable<(int Id, bool Memoryless, string? Cpus)> Shape(QemuTopology t) =>
        t.Nodes.Values.OrderBy(n => n.Id).Select(n => (n.Id, n.IsMemoryless, n.Cpus));

    private QemuTopology NativeTopology(GoldenCase c)
    {
        var domainName = "native-" + c.Name;
        var file = Path.Combine(libvirtd.Directory, domainName + ".xml");
        File.WriteAllText(file, ForThisMachine(c, domainName).ToString());
        var native = libvirtd.Virsh("domxml-to-native", "qemu-argv", file);
        Assert.True(native.ExitCode == 0, native.Output);
        return QemuTopology.Parse(native.Stdout, HostdevSources(c));
    }

    private static XElement Record(GoldenCase c) =>
        XDocument.Parse(File.ReadAllText(c.OutputPath)).Root!.Element("metadata")?.Element(TransformRecord.RootName) ?? new XElement(TransformRecord.RootName);

    /// <summary>The output's PCI hostdev sources in document order: libvirt names the Nth hostdevN.</summary>
    private static List<string> HostdevSources(GoldenCase c) =>
    [
        .. XDocument.Parse(File.ReadAllText(c.OutputPath)).Root!.Element("devices")!.Elements("hostdev")
            .Select(h => h.Element("source")!.Element("address")!)
            .Select(a => PciAddressXml.TryRead(a, out var source, out var why) ? source.ToString() : throw new FormatException($"{a}: {why}")),
    ];


    /// <summary>
    /// The golden output as this x86 machine without KVM can define it: TCG, a CPU model TCG offers, and no
    /// &lt;numatune&gt; (the Grace host nodes it names do not exist here). The golden files stay as approved.
    /// </summary>
    public static XDocument ForThisMachine(GoldenCase c, string domainName) => ForThisMachine(File.ReadAllText(c.OutputPath), domainName);

    public static XDocument ForThisMachine(string output, string domainName)
    {
        var doc = XDocument.Parse(output);
        var root = doc.Root!;
        root.SetAttributeValue("type", "qemu");
        root.Element("name")!.Value = domainName;
        root.Element("uuid")?.Remove();
        root.Element("numatune")?.Remove();
        var cpu = root.Element("cpu")!;
        cpu.SetAttributeValue("mode", "maximum");
        cpu.SetAttributeValue("check", null);
        return doc;
    }

    /// <summary>For each guest NUMA node, the host node it stands for: GPU nodes from our record, CPU cells from numatune.</summary>
    internal static Dictionary<int, int> HostNodeOfEachGuestNode(GoldenCase c, HostTopology host) =>
        HostNodeOfEachGuestNode(XDocument.Parse(File.ReadAllText(c.OutputPath)).Root!, host);

    internal static Dictionary<int, int> HostNodeOfEachGuestNode(XElement root, HostTopology host)
    {
        var map = new Dictionary<int, int>();
        foreach (var gpu in root.Element("metadata")!.Element(TransformRecord.RootName)!.Elements(TransformRecord.Ns + "grace-gpu"))
        {
            foreach (var (g, h) in Nodeset.Parse((string)gpu.Attribute("nodes")!)
                         .Zip(Nodeset.Parse((string)gpu.Attribute("host-nodes")!)))
            {
                map[g] = h;
            }
        }
        var cpuNodes = host.NumaNodes.Where(n => n.HasCpus).Select(n => n.Id).ToList();
        foreach (var cell in NumaCells(root).Select(e => Int((string?)e.Attribute("id"))))
        {
            if (map.ContainsKey(cell)) continue;
            var pinned = root.Element("numatune")?.Elements("memnode").FirstOrDefault(m => (string?)m.Attribute("cellid") == cell.ToString(System.Globalization.CultureInfo.InvariantCulture));
            map[cell] = pinned is not null ? Nodeset.Parse((string)pinned.Attribute("nodeset")!)[0]
                : cpuNodes.Count == 1 ? cpuNodes[0] : throw new InvalidOperationException($"guest cell {cell} is not pinned and the host has {cpuNodes.Count} CPU nodes");
        }
        return map;
    }

    internal static List<(GraceGpu Gpu, IReadOnlyList<int> GuestNodes)> GraceGpusOf(GoldenCase c, HostTopology host) =>
        GraceGpusOf(XDocument.Parse(File.ReadAllText(c.OutputPath)).Root!, host);

    internal static List<(GraceGpu Gpu, IReadOnlyList<int> GuestNodes)> GraceGpusOf(XElement output, HostTopology host) =>
        [.. output.Element("metadata")!.Element(TransformRecord.RootName)!
            .Elements(TransformRecord.Ns + "grace-gpu")
            .Select(e => (host.GraceGpuAt(PciAddress.Parse((string)e.Attribute("source")!))!, Nodeset.Parse((string)e.Attribute("nodes")!)))];

    /// <summary>What we write on a hostdev: source, variant driver model, iommufd, &lt;acpi nodeset&gt;, user alias.</summary>
    private static List<string> Hostdevs(XElement domain) =>
    [
        .. domain.Element("devices")!.Elements("hostdev").Select(h => string.Join(" ",
            h.Element("source")!.Element("address")!.Attributes().Select(a => $"{a.Name}={a.Value}"),
            "model=" + (string?)h.Element("driver")?.Attribute("model"),
            "iommufd=" + (string?)h.Element("driver")?.Attribute("iommufd"),
            "acpi=" + (string?)h.Element("acpi")?.Attribute("nodeset"),
            "alias=" + (string?)h.Element("alias")?.Attribute("name"))),
    ];

    /// <summary>Source → guest bus of the hostdevs <paramref name="onlyWritten"/> gives a guest address.</summary>
    private static List<string> GuestBuses(XElement domain, XElement onlyWritten)
    {
        static string Source(XElement h) => PciAddressXml.TryRead(h.Element("source")!.Element("address")!, out var a, out _) ? a.ToString() : "?";
        var addressed = onlyWritten.Element("devices")!.Elements("hostdev").Where(h => h.Element("address") is not null).Select(Source).ToHashSet();
        return
        [
            .. domain.Element("devices")!.Elements("hostdev").Where(h => addressed.Contains(Source(h)))
                .Select(h => Source(h) + " bus=" + (PciAddress.TryParseXmlNumber((string?)h.Element("address")?.Attribute("bus"), out var bus) ? bus : -1)),
        ];
    }

    /// <summary>Each NUMA cell: id, CPUs, memory in KiB.</summary>
    private static List<string> Cells(XElement domain) =>
    [
        .. NumaCells(domain).Select(cell => string.Join(" ",
            (string?)cell.Attribute("id"), (string?)cell.Attribute("cpus"),
            Domain.MemoryUnits.TryToKiB((string?)cell.Attribute("memory"), (string?)cell.Attribute("unit"), out var kib, out _) ? kib : ulong.MaxValue)),
    ];

    /// <summary>The &lt;distances&gt; of every cell, by (cell, sibling).</summary>
    private static Dictionary<(int From, int To), int> Distances(XElement domain) =>
        NumaCells(domain).SelectMany(cell => (cell.Element("distances")?.Elements("sibling") ?? [])
                .Select(s => (From: Int((string?)cell.Attribute("id")), To: Int((string?)s.Attribute("id")), Value: Int((string?)s.Attribute("value")))))
            .ToDictionary(d => (d.From, d.To), d => d.Value);

    private static IEnumerable<XElement> NumaCells(XElement domain) => domain.Element("cpu")?.Element("numa")?.Elements("cell") ?? [];

    private static int Int(string? s) => int.Parse(s ?? "", System.Globalization.CultureInfo.InvariantCulture);
}
