using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>The &lt;metadata&gt; record: every kind it writes is in the schema, and undo removes exactly what it lists.</summary>
public class TransformRecordTests
{
    private static readonly XNamespace Xs = "http://www.w3.org/2001/XMLSchema";

    private static TransformOptions Grace(string libvirt, (int, int) qemu) =>
        new(MemlockMode.Auto, new TargetLibvirt(LibvirtVersion.TryParse(libvirt, out var v) ? v : throw new ArgumentException(libvirt), TargetLibvirt.FromOption),
            new TargetQemu(qemu, TargetQemu.FromOption));

    [Fact]
    public void The_kinds_the_golden_cases_write_are_exactly_the_kinds_the_schema_declares()
    {
        var schema = XDocument.Load(Path.Combine(CliRunner.RepoRoot, "xml-schemas", "libvirt-nvlink-metadata.xsd"));
        var declared = schema.Root!.Elements(Xs + "element").Single(e => (string?)e.Attribute("name") == "nvlink")
            .Descendants(Xs + "choice").First().Elements(Xs + "element").Select(e => (string)e.Attribute("name")!).ToHashSet();
        var written = new HashSet<string>();
        foreach (var c in GoldenCase.All())
        {
            var record = XDocument.Parse(c.Run(c.Input).Xml).Root!.Element("metadata")?.Element(TransformRecord.RootName);
            foreach (var e in record?.Elements() ?? []) written.Add(e.Name.LocalName);
        }
        Assert.Equal(declared.Order(), written.Order());
    }

    [Fact]
    public void Undo_keeps_the_users_own_qemu_args_even_when_ours_have_the_same_values()
    {
        // The repro of issue #12: a user -numa arg came first, and undo used to find "the first -numa".
        var input = GoldenCase.Named("grace-gh200-libvirt-9-qemu-9").Input.Replace(
            "<domain type='kvm'>", "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>", StringComparison.Ordinal).Replace(
            "</domain>",
            "  <qemu:commandline>\n    <qemu:arg value='-numa'/>\n    <qemu:arg value='node,nodeid=20'/>\n" +
            "    <qemu:arg value='-msg'/>\n    <qemu:arg value='timestamp=on'/>\n  </qemu:commandline>\n</domain>", StringComparison.Ordinal);
        var host = SimulatedHosts.Topology(BuiltInLayouts.GraceHopper1Gpu);
        var once = DomainTransformer.Transform(input, host, Grace("9.0.0", (9, 2)));
        Assert.True(once.Changed);
        var undone = DomainTransformer.Undo(once.Xml);
        Assert.Equal(input, undone.Xml);
    }

    [Fact]
    public void Undo_removes_the_recorded_run_even_after_the_user_added_args_before_it()
    {
        var c = GoldenCase.Named("grace-gh200-libvirt-9-qemu-9");
        var once = c.Run(c.Input).Xml;
        var edited = once.Replace("<qemu:commandline>", "<qemu:commandline>\n    <qemu:arg value='-numa'/>", StringComparison.Ordinal);
        var undone = DomainDefinition.Parse(DomainTransformer.Undo(edited).Xml);
        Assert.Equal(["-numa"], QemuCommandLine.QemuArgs(undone));
    }

    [Fact]
    public void A_record_written_before_exact_args_were_kept_is_still_undone()
    {
        var c = GoldenCase.Named("grace-gh200-libvirt-9-qemu-9");
        var once = XDocument.Parse(c.Run(c.Input).Xml);
        var run = once.Descendants(TransformRecord.Ns + "added-qemu-args").Single();
        var count = run.Elements().Count();
        run.ReplaceWith(new XElement(TransformRecord.Ns + "added-qemu-args", new XAttribute("first", "-numa"), new XAttribute("count", count)));
        var legacy = once.ToString(SaveOptions.DisableFormatting);
        var undone = DomainDefinition.Parse(DomainTransformer.Undo(legacy).Xml);
        Assert.Empty(QemuCommandLine.QemuArgs(undone));
    }
}
