using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Tests;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// The proof that what the transform writes means to a guest kernel what the host has: a TCG aarch64 virt guest,
/// started by libvirt 12.8 with a golden Grace layout, boots Debian's arm64 kernel (UEFI) and reports its NUMA nodes,
/// distances and SRAT on the serial console. No VFIO device exists here, so each GPU is stood in for by a virtio-rng
/// PCI device carrying the GPU's alias. libvirt 12.8 accepts &lt;acpi nodeset&gt; on such a device but writes
/// acpi-generic-initiator objects for hostdevs only, so the boot uses the &lt;qemu:commandline&gt; form, whose objects name
/// the alias; GraceOnLibvirt12Tests shows that both forms give QEMU the same topology.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public class GraceGuestBootTests(SidLibvirtd libvirtd, ITestOutputHelper output)
{
    private const ulong CellKiB = 256 * 1024;

    /// <summary>
    /// The GH200 golden output, and the GB200 tray's golden input with one GPU (0018:01:00.0, on the second socket, so
    /// the two CPU cells are at different distances from its nodes) transformed here: 9 and 10 nodes, booted on the
    /// kernel a Debian guest runs (its arm64 kernels allow 16 NUMA nodes, CONFIG_NODES_SHIFT=4).
    /// </summary>
    public static TheoryData<string> Layouts() => ["gh200", "gb200-one-gpu", "gb200-one-gpu-expander"];

    private static (string Output, Simulation.HostLayout Host) Layout(string name)
    {
        if (name == "gh200")
        {
            var c = GoldenCase.Named("grace-gh200-libvirt-9-qemu-9");
            return (File.ReadAllText(c.OutputPath), c.Layout);
        }
        var tray = GoldenCase.Named("grace-gb200-4gpu-libvirt-9-qemu-10");
        var input = XDocument.Parse(tray.Input);
        input.Root!.Element("devices")!.Elements("hostdev")
            .Where(h => (string?)h.Element("source")!.Element("address")!.Attribute("domain") != "0x0018").Remove();
        // The expander layout for libvirt 9 (no vSMMU, legacy groups): the GPU on a root port under a pxb-pcie on its cell.
        var options = name.EndsWith("-expander", StringComparison.Ordinal) ? tray.Options with { GraceLayout = GracePciLayout.Expander } : tray.Options;
        return (DomainTransformer.Transform(input.ToString(), SimulatedHosts.Topology(tray.Layout), options).Xml, tray.Layout);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void A_guest_booted_with_the_transformed_layout_reports_the_hosts_GPU_nodes_distances_and_generic_initiators(string name)
    {
        var (outputXml, layout) = Layout(name);
        AssertGuestReportsTheHostLayout("boot-" + name, outputXml, layout, GraceGuestImage.Get());
    }

    /// <summary>
    /// The 4-GPU GB200 tray's golden output: 2 CPU nodes and 32 GPU nodes, more than Debian's arm64 kernels allow (a
    /// 16-node guest keeps nodes 0–15 and loses the third and fourth GPUs' nodes), so the guest runs the kernel
    /// scripts/guest-kernel.sh builds with CONFIG_NODES_SHIFT=6.
    /// </summary>
    [Fact]
    public void A_guest_booted_with_the_4_GPU_GB200_layout_reports_all_34_nodes_distances_and_generic_initiators()
    {
        var c = GoldenCase.Named("grace-gb200-4gpu-libvirt-9-qemu-10");
        var output = File.ReadAllText(c.OutputPath);
        var image = GraceGuestImage.WithManyNodes();
        Assert.Equal(34, GraceOnLibvirt12Tests.HostNodeOfEachGuestNode(XDocument.Parse(output).Root!, SimulatedHosts.Topology(c.Layout)).Count);
        Processes.RequireOrSkip(image.Available, image.Reason);
        Assert.True(image.MaxNumaNodes >= 34, $"{image.Reason} allows {image.MaxNumaNodes} NUMA nodes, fewer than the layout's 34");
        AssertGuestReportsTheHostLayout("boot-gb200-4gpu", output, c.Layout, image);
    }

    /// <summary>
    /// Boots the layout and compares the guest's view with the host's: the same nodes online, the GPU nodes (and only
    /// they) memory-less, CPU-less generic initiators, every distance to or from a GPU node the host's, and the SRAT
    /// tying each GPU's nodes to the PCI device standing in for it.
    /// </summary>
    private void AssertGuestReportsTheHostLayout(string domainName, string outputXml, Simulation.HostLayout layout, GraceGuestImage.Files image)
    {
        var (report, dump) = Boot(domainName, outputXml, image);
        var written = XDocument.Parse(outputXml).Root!;
        var host = SimulatedHosts.Topology(layout);
        // Guest cells are proximity domains; Linux numbers its nodes in the order it meets them in the SRAT, which for
        // the 4-GPU tray differs from the cell order, so each node the guest reports is read back through its SRAT.
        var hostOf = GraceOnLibvirt12Tests.HostNodeOfEachGuestNode(written, host);
        var gpus = GraceOnLibvirt12Tests.GraceGpusOf(written, host);
        var giCells = gpus.SelectMany(g => g.GuestNodes).ToHashSet();
        var masks = Masks(report);
        var srat = AcpiSrat.Parse(Convert.FromHexString(masks["srat"]));
        Assert.True(srat.NodesKnown, "the guest's SRAT cannot be replayed");
        var cellOf = hostOf.Keys.ToDictionary(cell => srat.NodeOf(cell) ?? throw new Xunit.Sdk.XunitException($"no node for cell {cell} in the guest's SRAT"));
        var giNodes = cellOf.Where(p => giCells.Contains(p.Value)).Select(p => p.Key).Order().ToList();
        Assert.Equal(Nodeset.Format(cellOf.Keys.Order()), masks["online"]);
        Assert.Equal(Nodeset.Format(giNodes), masks["has_generic_initiator"]);
        // The replay of Linux's numbering, checked against the guest kernel's own: its CPU nodes.
        Assert.Equal(Nodeset.Format(srat.CpuProximityDomains.Select(p => srat.NodeOf(p)!.Value).Order()), masks["has_cpu"]);

        var nodes = report.Where(l => l.StartsWith("LVN node", StringComparison.Ordinal)).Select(ParseNode).ToDictionary(n => n.Id);
        var order = nodes.Keys.Order().ToList();
        Assert.Equal(cellOf.Keys.Order(), order);
        foreach (var n in giNodes)
        {
            Assert.True(nodes[n].Cpus.Length == 0 && nodes[n].MemTotalKiB == 0, $"guest node {n} has CPUs '{nodes[n].Cpus}' or {nodes[n].MemTotalKiB} KiB");
        }
        foreach (var n in order.Except(giNodes)) Assert.True(nodes[n].Cpus.Length > 0 && nodes[n].MemTotalKiB > 0, $"guest CPU node {n}");
        // Each row as the guest kernel reads its SLIT: every pair with a GPU node is the host's distance.
        foreach (var a in order)
        {
            Assert.Equal(order.Count, nodes[a].Distances.Count);
            foreach (var (b, i) in order.Select((b, i) => (b, i)))
            {
                var (hostA, hostB) = (hostOf[cellOf[a]], hostOf[cellOf[b]]);
                if (a == b) Assert.Equal(10, nodes[a].Distances[i]);
                else if (giNodes.Contains(a) || giNodes.Contains(b)) Assert.True(host.NumaNode(hostA)!.Distances[hostB] == nodes[a].Distances[i],
                    $"guest {a}→{b} (cells {cellOf[a]}→{cellOf[b]}) is {nodes[a].Distances[i]}, host {hostA}→{hostB} is {host.NumaNode(hostA)!.Distances[hostB]}");
            }
        }

        // The guest's SRAT ties each GPU's cells to the PCI device standing in for it (bus in byte 2: QEMU 11.1 has 16c687d8).
        var expanderCell = written.Element("metadata")!.Element(TransformRecord.RootName)!.Elements(TransformRecord.Ns + "grace-root-port")
            .ToDictionary(r => (string)r.Attribute("source")!, r => written.Element("metadata")!.Element(TransformRecord.RootName)!
                .Elements(TransformRecord.Ns + "grace-expander").Single(x => (string?)x.Attribute("index") == (string?)r.Attribute("expander")))
            .ToDictionary(p => p.Key, p => int.Parse((string)p.Value.Attribute("node")!, CultureInfo.InvariantCulture));
        foreach (var (gpu, guestNodes) in gpus)
        {
            var guestAddress = StandInAddress(dump, gpu.Address);
            var line = Assert.Single(report, l => l.StartsWith($"LVN pci {guestAddress} 0x1af4:0x1044 ", StringComparison.Ordinal));
            Assert.Equal(guestNodes.Order(), srat.ProximityDomainsOf(guestAddress).Order());
            if (expanderCell.TryGetValue(gpu.Address.ToString(), out var cell))
            {
                // Under its expander the stand-in is on the node of the cell standing for the GPU's CPU node (the pxb's _PXM).
                Assert.EndsWith($" numa={srat.NodeOf(cell)}", line, StringComparison.Ordinal);
                Assert.Equal(gpu.NumaNode, hostOf[cell]);
            }
        }
        Assert.Equal(giCells.Count, srat.GenericInitiators.Count);
        output.WriteLine("guest node → cell: " + string.Join(' ', cellOf.OrderBy(p => p.Key).Select(p => $"{p.Key}→{p.Value}")));
    }

    private static Dictionary<string, string> Masks(List<string> report) =>
        report.Where(l => l.Contains('=') && !l.StartsWith("LVN node", StringComparison.Ordinal) && !l.StartsWith("LVN pci", StringComparison.Ordinal))
            .Select(l => l[4..].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    /// <summary>
    /// Where the guest sees the stand-in. On pcie.0's hierarchy libvirt's bus is the guest's; behind a root port under a
    /// pxb-pcie the guest numbers the port's bus after the expander's own (its busNr), so with one port on the expander
    /// the device is on busNr + 1.
    /// </summary>
    private static PciAddress StandInAddress(XElement dump, PciAddress gpu)
    {
        var alias = GraceAssignment.AliasFor(gpu);
        var devices = dump.Element("devices")!;
        var at = devices.Elements("rng").Single(r => (string?)r.Element("alias")?.Attribute("name") == alias).Element("address")!;
        var controllers = devices.Elements("controller").Where(c => (string?)c.Attribute("type") == "pci").ToDictionary(c => Dec(c, "index"));
        var port = controllers[Hex(at, "bus")];
        if ((string?)port.Attribute("model") == "pcie-root-port" && controllers[Hex(port.Element("address")!, "bus")] is { } parent &&
            (string?)parent.Attribute("model") == "pcie-expander-bus")
        {
            Assert.Single(controllers.Values, c => c.Element("address") is { } a && Hex(a, "bus") == Dec(parent, "index"));
            var busNr = Dec(parent.Element("target")!, "busNr");
            return new PciAddress(Hex(at, "domain"), busNr + 1, Hex(at, "slot"), Hex(at, "function"));
        }
        return new PciAddress(Hex(at, "domain"), Hex(at, "bus"), Hex(at, "slot"), Hex(at, "function"));
    }

    private static int Dec(XElement e, string attribute) => int.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

    /// <summary>Defines and starts the guest, waits until it powered itself off, and returns its report and libvirt's view of it.</summary>
    private (List<string> Report, XElement Dump) Boot(string domainName, string outputXml, GraceGuestImage.Files image)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        Processes.RequireOrSkip(image.Available, image.Reason);
        // QEMU runs inside the Debian root, which sees the machine's /tmp (the daemon's directory) but not the cache;
        // the copies are named by their cache entry, as the kernels differ.
        var entry = Path.GetFileName(Path.GetDirectoryName(image.Kernel))!;
        var kernel = Path.Combine(libvirtd.Directory, entry + "-vmlinuz");
        var initrd = Path.Combine(libvirtd.Directory, entry + "-initrd.img");
        if (!File.Exists(kernel)) File.Copy(image.Kernel!, kernel);
        if (!File.Exists(initrd)) File.Copy(image.Initrd!, initrd);
        var serial = Path.Combine(libvirtd.Directory, domainName + ".serial");
        libvirtd.Define(ForBoot(outputXml, domainName, kernel, initrd, serial), domainName);
        try
        {
            var started = DateTime.UtcNow;
            var start = libvirtd.Virsh("start", domainName);
            Assert.True(start.ExitCode == 0, start.Output);
            var dump = XDocument.Parse(libvirtd.Virsh("dumpxml", domainName).Stdout).Root!;
            // The guest powers off once it has reported; under TCG on two cores that takes about half a minute.
            var deadline = started.AddMinutes(10);
            while (libvirtd.Virsh("domstate", domainName).Stdout.Trim() != "shut off" && DateTime.UtcNow < deadline) Thread.Sleep(1000);
            var log = File.Exists(serial) ? File.ReadAllText(serial) : "";
            Assert.True(log.Contains("LVN-END", StringComparison.Ordinal), $"no report within 10 minutes; serial console:\n{log}");
            var report = log.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("LVN", StringComparison.Ordinal)).ToList();
            output.WriteLine($"{domainName}: booted and reported in {(DateTime.UtcNow - started).TotalSeconds:F0} s");
            foreach (var line in report.Where(l => !l.StartsWith("LVN srat=", StringComparison.Ordinal))) output.WriteLine(line);
            return (report, dump);
        }
        finally
        {
            libvirtd.Virsh("destroy", domainName);
            libvirtd.Virsh("undefine", "--nvram", domainName);
        }
    }

    private static int Hex(XElement address, string attribute) =>
        int.Parse(((string)address.Attribute(attribute)!)[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private sealed record GuestNode(int Id, string Cpus, ulong MemTotalKiB, List<int> Distances);

    /// <summary>"LVN node3 cpulist= memtotal_kb=0 distance=80 80 10 …"</summary>
    private static GuestNode ParseNode(string line)
    {
        var id = int.Parse(line["LVN node".Length..line.IndexOf(' ', "LVN node".Length)], CultureInfo.InvariantCulture);
        string Field(string key)
        {
            var at = line.IndexOf(key + "=", StringComparison.Ordinal) + key.Length + 1;
            var end = key == "distance" ? line.Length : line.IndexOf(' ', at);
            return line[at..(end < 0 ? line.Length : end)];
        }
        return new GuestNode(id, Field("cpulist"), ulong.Parse(Field("memtotal_kb"), CultureInfo.InvariantCulture),
            [.. Field("distance").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(d => int.Parse(d, CultureInfo.InvariantCulture))]);
    }

    /// <summary>
    /// A transform output as a small TCG guest: one vCPU and 256 MiB per CPU cell (the GPU nodes stay as written), the
    /// kernel and initramfs booted through UEFI, a serial console into a file, and each GPU hostdev replaced by a
    /// virtio-rng PCI device with the GPU's alias (which the generic initiators in &lt;qemu:commandline&gt; name) and guest address.
    /// </summary>
    private static XDocument ForBoot(string outputXml, string domainName, string kernel, string initrd, string serial)
    {
        var doc = GraceOnLibvirt12Tests.ForThisMachine(outputXml, domainName);
        var root = doc.Root!;
        var cells = root.Element("cpu")!.Element("numa")!.Elements("cell").Where(e => e.Attribute("cpus") is not null).ToList();
        for (var i = 0; i < cells.Count; i++)
        {
            cells[i].SetAttributeValue("cpus", i.ToString(CultureInfo.InvariantCulture));
            cells[i].SetAttributeValue("memory", CellKiB.ToString(CultureInfo.InvariantCulture));
            cells[i].SetAttributeValue("unit", "KiB");
        }
        root.Element("cpu")!.Element("topology")?.Remove();
        root.Element("cputune")?.Remove();
        root.Element("vcpu")!.Value = cells.Count.ToString(CultureInfo.InvariantCulture);
        foreach (var m in new[] { "memory", "currentMemory" })
        {
            if (root.Element(m) is not { } e) continue;
            e.Value = ((ulong)cells.Count * CellKiB).ToString(CultureInfo.InvariantCulture);
            e.SetAttributeValue("unit", "KiB");
        }
        root.Element("os")!.Element("loader")!.AddAfterSelf(
            new XElement("kernel", kernel), new XElement("initrd", initrd), new XElement("cmdline", "console=ttyAMA0 panic=-1"));
        var devices = root.Element("devices")!;
        devices.Elements().Where(e => e.Name.LocalName is "disk" or "console" or "serial" or "interface").Remove();
        foreach (var hostdev in devices.Elements("hostdev").ToList())
        {
            // The stand-in takes the GPU's place too: its guest address, on the expander layout's root port.
            hostdev.ReplaceWith(new XElement("rng", new XAttribute("model", "virtio"),
                new XElement("backend", new XAttribute("model", "random"), "/dev/urandom"),
                new XElement(hostdev.Element("alias")!),
                hostdev.Element("address") is { } address ? new XElement(address) : null));
        }
        devices.Add(new XElement("serial", new XAttribute("type", "file"),
            new XElement("source", new XAttribute("path", serial)), new XElement("target", new XAttribute("port", "0"))));
        return doc;
    }
}
