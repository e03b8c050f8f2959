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
    /// the two CPU cells are at different distances from its nodes) transformed here: Debian's arm64 kernels allow 16
    /// NUMA nodes (CONFIG_NODES_SHIFT=4), fewer than the 34 of the 4-GPU tray (see the test after this one).
    /// </summary>
    public static TheoryData<string> Layouts() => ["gh200", "gb200-one-gpu"];

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
        return (DomainTransformer.Transform(input.ToString(), SimulatedHosts.Topology(tray.Layout), tray.Options).Xml, tray.Layout);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void A_guest_booted_with_the_transformed_layout_reports_the_hosts_GPU_nodes_distances_and_generic_initiators(string name)
    {
        var (outputXml, layout) = Layout(name);
        var (report, dump) = Boot("boot-" + name, outputXml);
        var written = XDocument.Parse(outputXml).Root!;
        var host = SimulatedHosts.Topology(layout);
        var hostOf = GraceOnLibvirt12Tests.HostNodeOfEachGuestNode(written, host);
        var gpus = GraceOnLibvirt12Tests.GraceGpusOf(written, host);
        var giNodes = gpus.SelectMany(g => g.GuestNodes).Order().ToList();
        var masks = Masks(report);
        Assert.Equal(Nodeset.Format(hostOf.Keys.Order()), masks["online"]);
        Assert.Equal(Nodeset.Format(giNodes), masks["has_generic_initiator"]);

        var nodes = report.Where(l => l.StartsWith("LVN node", StringComparison.Ordinal)).Select(ParseNode).ToDictionary(n => n.Id);
        var order = nodes.Keys.Order().ToList();
        Assert.Equal(hostOf.Keys.Order(), order);
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
                if (a == b) Assert.Equal(10, nodes[a].Distances[i]);
                else if (giNodes.Contains(a) || giNodes.Contains(b)) Assert.True(host.NumaNode(hostOf[a])!.Distances[hostOf[b]] == nodes[a].Distances[i],
                    $"guest {a}→{b} is {nodes[a].Distances[i]}, host {hostOf[a]}→{hostOf[b]} is {host.NumaNode(hostOf[a])!.Distances[hostOf[b]]}");
            }
        }

        // The guest's SRAT ties each GPU's nodes to the PCI device standing in for it (bus in byte 2: QEMU 11.1 has 16c687d8).
        var srat = AcpiSrat.Parse(Convert.FromHexString(masks["srat"]));
        foreach (var (gpu, guestNodes) in gpus)
        {
            var guestAddress = StandInAddress(dump, gpu.Address);
            Assert.Contains($"LVN pci {guestAddress} 0x1af4:0x1044", report);
            Assert.Equal(guestNodes, srat.ProximityDomainsOf(guestAddress).Select(p => srat.NodeOf(p)!.Value).Order());
        }
        Assert.Equal(giNodes.Count, srat.GenericInitiators.Count);
    }

    [Fact]
    public void The_4_GPU_GB200_layout_has_34_nodes_and_a_guest_kernel_built_for_16_keeps_only_the_first_16()
    {
        var c = GoldenCase.Named("grace-gb200-4gpu-libvirt-9-qemu-10");
        var output = File.ReadAllText(c.OutputPath);
        var written = XDocument.Parse(output).Root!;
        var wanted = GraceOnLibvirt12Tests.HostNodeOfEachGuestNode(written, SimulatedHosts.Topology(c.Layout)).Count;
        var (report, _) = Boot("boot-gb200-4gpu", output);
        var limit = GraceGuestImage.Get().MaxNumaNodes;
        Assert.Equal(34, wanted);
        Assert.True(limit < wanted, $"the guest kernel allows {limit} nodes: boot the 4-GPU layout in the full test above instead");
        // What such a guest sees: nodes 0 to limit-1, the GPU nodes beyond them gone, and so the third and fourth GPU's memory.
        var masks = Masks(report);
        Assert.Equal($"0-{limit - 1}", masks["possible"]);
        Assert.Equal($"2-{limit - 1}", masks["has_generic_initiator"]);
    }

    private static Dictionary<string, string> Masks(List<string> report) =>
        report.Where(l => l.Contains('=') && !l.StartsWith("LVN node", StringComparison.Ordinal) && !l.StartsWith("LVN pci", StringComparison.Ordinal))
            .Select(l => l[4..].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static PciAddress StandInAddress(XElement dump, PciAddress gpu)
    {
        var alias = GraceAssignment.AliasFor(gpu);
        var at = dump.Element("devices")!.Elements("rng").Single(r => (string?)r.Element("alias")?.Attribute("name") == alias).Element("address")!;
        return new PciAddress(Hex(at, "domain"), Hex(at, "bus"), Hex(at, "slot"), Hex(at, "function"));
    }

    /// <summary>Defines and starts the guest, waits until it powered itself off, and returns its report and libvirt's view of it.</summary>
    private (List<string> Report, XElement Dump) Boot(string domainName, string outputXml)
    {
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var image = GraceGuestImage.Get();
        Processes.RequireOrSkip(image.Available, image.Reason);
        // QEMU runs inside the Debian root, which sees the machine's /tmp (the daemon's directory) but not the cache.
        var kernel = Path.Combine(libvirtd.Directory, "vmlinuz");
        var initrd = Path.Combine(libvirtd.Directory, "initrd.img");
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
    /// virtio-rng PCI device with the GPU's alias, which the generic initiators in &lt;qemu:commandline&gt; name.
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
            hostdev.ReplaceWith(new XElement("rng", new XAttribute("model", "virtio"),
                new XElement("backend", new XAttribute("model", "random"), "/dev/urandom"),
                new XElement(hostdev.Element("alias")!)));
        }
        devices.Add(new XElement("serial", new XAttribute("type", "file"),
            new XElement("source", new XAttribute("path", serial)), new XElement("target", new XAttribute("port", "0"))));
        return doc;
    }
}
