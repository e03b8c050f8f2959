using System.Xml.Linq;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Every approved transform output is valid for libvirt itself and survives a real define.</summary>
[Collection(LibvirtdCollection.Name)]
public class TransformOnRealLibvirtTests(PlainLibvirtd installed, SidLibvirtd sid)
{
    public static TheoryData<string> Outputs() =>
        [.. GoldenCase.All().Select(c => c.Name)];

    /// <summary>
    /// The libvirt that checks an output: the machine's own (Debian 12's 9.0), or for outputs made for a newer one
    /// (&lt;acpi nodeset&gt;, &lt;driver model&gt;, whose XML 9.0 predates) Debian unstable's 12.8, which must then be there.
    /// </summary>
    private PrivateLibvirtd DaemonFor(GoldenCase c)
    {
        var here = LibvirtNvlink.Libvirt.LibvirtLibrary.InstalledVersion();
        var daemon = here is { } v && c.Libvirt > v ? (PrivateLibvirtd)sid : installed;
        Processes.RequireOrSkip(daemon.Available, daemon.Unavailable);
        return daemon;
    }

    /// <summary>This x86 machine has no KVM: the same domain as TCG, and for aarch64 a CPU model TCG can run.</summary>
    private static XDocument AsTcg(GoldenCase c, string domainName)
    {
        var doc = XDocument.Parse(File.ReadAllText(c.OutputPath));
        doc.Root!.SetAttributeValue("type", "qemu");
        doc.Root.Element("name")!.Value = domainName;
        if (doc.Root.Element("cpu") is { } cpu && (string?)cpu.Attribute("mode") == "host-passthrough" &&
            (string?)doc.Root.Element("os")?.Element("type")?.Attribute("arch") == "aarch64")
        {
            cpu.SetAttributeValue("mode", "custom");
            cpu.SetAttributeValue("check", null);
            cpu.AddFirst(new XElement("model", new XAttribute("fallback", "forbid"), "cortex-a57"));
        }
        return doc;
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_passes_libvirts_own_schema(string name)
    {
        Processes.RequireOrSkip(File.Exists("/usr/bin/virt-xml-validate"), "virt-xml-validate (libvirt-clients)");
        var c = GoldenCase.Named(name);
        var daemon = DaemonFor(c);
        // The daemon's own libvirt schemas; a file under its directory is visible inside a Debian root too.
        var file = Path.Combine(daemon.Directory, "schema-" + name + ".xml");
        File.Copy(c.OutputPath, file, overwrite: true);
        var r = daemon.Tool("/usr/bin/virt-xml-validate", [file, "domain"]);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_is_accepted_by_virsh_define_and_keeps_each_GPU_with_its_bridges_on_one_PHB(string name)
    {
        var c = GoldenCase.Named(name);
        var libvirtd = DaemonFor(c);
        var domainName = "golden-" + name;
        var doc = libvirtd == sid ? GraceOnLibvirt12Tests.ForThisMachine(c, domainName) : AsTcg(c, domainName);
        libvirtd.Define(doc, domainName);
        try
        {
            var dump = libvirtd.Virsh("dumpxml", "--inactive", domainName);
            Assert.Equal(0, dump.ExitCode);
            var defined = XDocument.Parse(dump.Stdout);
            var topology = SimulatedHosts.Topology(c.Layout);
            var hostdevs = defined.Root!.Element("devices")!.Elements("hostdev")
                .Select(h => (Source: ParseSource(h), Bus: (string?)h.Element("address")?.Attribute("bus")))
                .ToList();
            foreach (var gpu in topology.Gpus.Where(g => g.IsNvlink2 && hostdevs.Any(h => h.Source == g.Address)))
            {
                var buses = hostdevs.Where(h => h.Source == gpu.Address || gpu.Bridges.Contains(h.Source)).Select(h => h.Bus).Distinct().ToList();
                Assert.Equal(gpu.Bridges.Count + 1, hostdevs.Count(h => h.Source == gpu.Address || gpu.Bridges.Contains(h.Source)));
                Assert.Single(buses);
                Assert.NotEqual("0x00", buses[0]);
                var controller = defined.Root.Element("devices")!.Elements("controller")
                    .Single(e => (string?)e.Attribute("type") == "pci" && Convert.ToInt32((string?)e.Attribute("index"), 10) == Convert.ToInt32(buses[0], 16));
                Assert.Equal("spapr-pci-host-bridge", controller.Element("model")?.Attribute("name")?.Value);
            }
            // The older Grace form lives in the user alias and <qemu:commandline>: libvirt must keep both.
            var qemuNs = Domain.QemuCommandLine.Ns;
            Assert.Equal(doc.Root!.Descendants(qemuNs + "arg").Count(), defined.Root!.Descendants(qemuNs + "arg").Count());
            Assert.Equal(doc.Root.Descendants("alias").Select(a => (string?)a.Attribute("name")).Order(),
                defined.Root.Element("devices")!.Elements("hostdev").Select(h => (string?)h.Element("alias")?.Attribute("name")).OfType<string>().Order());
            // libvirt keeps our record in <metadata>, reformatted; undo still finds it.
            if (doc.Root.Element("metadata")?.Element(Transform.TransformRecord.RootName) is not null)
            {
                Assert.NotNull(defined.Root.Element("metadata")?.Element(Transform.TransformRecord.RootName));
            }
        }
        finally
        {
            libvirtd.Virsh("undefine", "--nvram", domainName);
        }
    }

    public static TheoryData<string> GraceCommandlineOutputs() =>
        [.. GoldenCase.All().Where(c => c.Name.StartsWith("grace-", StringComparison.Ordinal) && c.Libvirt < Versions.VersionThresholds.LibvirtAcpiNodeset).Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(GraceCommandlineOutputs))]
    public void Grace_output_for_older_libvirt_gives_QEMU_one_memoryless_node_and_one_generic_initiator_per_host_node(string name)
    {
        var libvirtd = installed;
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        Processes.RequireOrSkip(File.Exists("/usr/bin/qemu-system-aarch64"), "qemu-system-aarch64 (qemu-system-arm)");
        var c = GoldenCase.Named(name);
        var doc = AsTcg(c, "native-" + name);
        // This machine has one NUMA node: pinning guest cells to the Grace host's nodes cannot be checked here.
        doc.Root!.Element("numatune")?.Remove();
        // Without an IOMMU here libvirt cannot pick the hostdev backend itself; on a real host it picks VFIO.
        foreach (var h in doc.Root.Element("devices")!.Elements("hostdev").Where(h => h.Element("driver") is null))
        {
            h.AddFirst(new XElement("driver", new XAttribute("name", "vfio")));
        }
        var file = Path.Combine(libvirtd.Directory, "native-" + name + ".xml");
        File.WriteAllText(file, doc.ToString());
        var native = libvirtd.Virsh("domxml-to-native", "qemu-argv", file);
        Assert.True(native.ExitCode == 0, native.Output);
        var argv = native.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);

        var topology = SimulatedHosts.Topology(c.Layout);
        var record = doc.Root.Element("metadata")!.Element(Transform.TransformRecord.RootName)!;
        var expectedNodes = 0;
        foreach (var gpu in record.Elements(Transform.TransformRecord.Ns + "grace-gpu"))
        {
            var source = Pci.PciAddress.Parse((string)gpu.Attribute("source")!);
            var alias = Domain.GraceAssignment.AliasFor(source);
            var guestNodes = Domain.Nodeset.Parse((string)gpu.Attribute("nodes")!);
            Assert.Equal(topology.GraceGpuAt(source)!.GiNodes.Count, guestNodes.Count);
            foreach (var n in guestNodes)
            {
                Assert.Contains($"node,nodeid={n}", argv);
                Assert.Contains($"acpi-generic-initiator,id=lvn-gi{n},pci-dev={alias},node={n}", argv);
            }
            Assert.Contains(argv, a => a.Contains($"\"id\":\"{alias}\"", StringComparison.Ordinal));
            expectedNodes += guestNodes.Count;
        }
        Assert.True(expectedNodes >= 8);
        // Memory-less means no memdev: libvirt 9.0 would have given a <cell memory='0'> a zero-sized backend.
        Assert.DoesNotContain(argv, a => a.Contains("\"size\":0", StringComparison.Ordinal));
        var window = Domain.GraceAssignment.MmioWindowFor(record.Elements(Transform.TransformRecord.Ns + "grace-gpu")
            .Select(g => topology.GraceGpuAt(Pci.PciAddress.Parse((string)g.Attribute("source")!))!));
        if (c.Qemu is { } q && q.CompareTo(Versions.VersionThresholds.QemuHighmemMmioSize) >= 0 && window > Domain.GraceAssignment.VirtDefaultHighMmio)
        {
            Assert.Contains("highmem-mmio-size=" + Domain.QemuCommandLine.QemuSize(window), argv);
        }
        else
        {
            Assert.DoesNotContain(argv, a => a.StartsWith("highmem-mmio-size=", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_daemon_reports_the_QEMU_it_runs_which_is_what_define_and_apply_transform_Grace_domains_for()
    {
        var libvirtd = installed;
        Processes.RequireOrSkip(libvirtd.Available, libvirtd.Unavailable);
        var version = Processes.Run("/usr/bin/qemu-system-ppc64", ["--version"]);
        var m = System.Text.RegularExpressions.Regex.Match(version.Stdout, @"QEMU emulator version (\d+)\.(\d+)");
        Assert.True(m.Success, version.Output);
        using var c = Libvirt.LibvirtConnection.OpenOnce(libvirtd.Uri, readOnly: true);
        Assert.Equal((int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                      int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)),
            Versions.TargetQemu.FromNumber(c.HypervisorVersionNumber()));
    }

    [Fact]
    public void QEMU_refuses_a_zero_sized_node_backend_and_accepts_a_memoryless_numa_node()
    {
        // Why the older form does not use <cell memory='0'>: what libvirt 9.0 makes of it, QEMU refuses.
        const string qemu = "/usr/bin/qemu-system-aarch64";
        Processes.RequireOrSkip(File.Exists(qemu), "qemu-system-aarch64 (qemu-system-arm)");
        var dtb = Path.Combine(TestRunTemp.NewDirectory("dtb-"), "virt.dtb");
        string[] common = ["-M", "virt,dumpdtb=" + dtb, "-cpu", "cortex-a57", "-m", "1G", "-smp", "2", "-display", "none", "-nodefaults",
            "-object", "memory-backend-ram,id=r0,size=1G", "-numa", "node,nodeid=0,cpus=0-1,memdev=r0"];
        var zero = Processes.Run(qemu, [.. common, "-object", "memory-backend-ram,id=r1,size=0", "-numa", "node,nodeid=1,memdev=r1"]);
        Assert.NotEqual(0, zero.ExitCode);
        Assert.Contains("size", zero.Output);
        var memoryless = Processes.Run(qemu, [.. common, "-numa", "node,nodeid=1", "-numa", "dist,src=1,dst=0,val=80"]);
        Assert.True(memoryless.ExitCode == 0, memoryless.Output);
        File.Delete(dtb);
    }

    private static Pci.PciAddress ParseSource(XElement hostdev)
    {
        var a = hostdev.Element("source")!.Element("address")!;
        return new Pci.PciAddress(Convert.ToInt32((string?)a.Attribute("domain"), 16), Convert.ToInt32((string?)a.Attribute("bus"), 16),
            Convert.ToInt32((string?)a.Attribute("slot"), 16), Convert.ToInt32((string?)a.Attribute("function"), 16));
    }
}
