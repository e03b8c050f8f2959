using System.Xml.Linq;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Every approved transform output is valid for libvirt itself and survives a real define.</summary>
[Collection(LibvirtdCollection.Name)]
public class TransformOnRealLibvirtTests(PlainLibvirtd libvirtd)
{
    public static TheoryData<string> Outputs() =>
        [.. GoldenCase.All().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_passes_libvirts_own_schema(string name)
    {
        Processes.RequireOrSkip(File.Exists("/usr/bin/virt-xml-validate"), "virt-xml-validate (libvirt-clients)");
        var c = GoldenCase.Named(name);
        var r = Processes.Run("/usr/bin/virt-xml-validate", [c.OutputPath, "domain"]);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_is_accepted_by_virsh_define_and_keeps_each_GPU_with_its_bridges_on_one_PHB(string name)
    {
        Processes.RequireOrSkip(libvirtd.Available, "a private libvirtd (root, libvirt-daemon, util-linux unshare)");
        var c = GoldenCase.Named(name);
        var doc = XDocument.Parse(File.ReadAllText(c.OutputPath));
        // This x86 machine has no KVM: define the same domain as TCG; nothing else changes.
        doc.Root!.SetAttributeValue("type", "qemu");
        var domainName = "golden-" + name;
        doc.Root.Element("name")!.Value = domainName;
        var file = Path.Combine(libvirtd.Directory, domainName + ".xml");
        File.WriteAllText(file, doc.ToString());
        var define = libvirtd.Virsh("define", file);
        Assert.True(define.ExitCode == 0, define.Output);
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
            // libvirt keeps our record in <metadata>, reformatted; undo still finds it.
            if (doc.Root.Element("metadata")?.Element(Transform.TransformRecord.RootName) is not null)
            {
                Assert.NotNull(defined.Root.Element("metadata")?.Element(Transform.TransformRecord.RootName));
            }
        }
        finally
        {
            libvirtd.Virsh("undefine", domainName);
        }
    }

    private static Pci.PciAddress ParseSource(XElement hostdev)
    {
        var a = hostdev.Element("source")!.Element("address")!;
        return new Pci.PciAddress(Convert.ToInt32((string?)a.Attribute("domain"), 16), Convert.ToInt32((string?)a.Attribute("bus"), 16),
            Convert.ToInt32((string?)a.Attribute("slot"), 16), Convert.ToInt32((string?)a.Attribute("function"), 16));
    }
}
