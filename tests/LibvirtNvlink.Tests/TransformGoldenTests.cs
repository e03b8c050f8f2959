using System.Xml.Schema;
using System.Xml.Linq;
using LibvirtNvlink.Transform;

namespace LibvirtNvlink.Tests;

/// <summary>The transformer's output for each approved case, its idempotence and its undo.</summary>
public class TransformGoldenTests
{
    [Theory]
    [MemberData(nameof(GoldenCase.Names), MemberType = typeof(GoldenCase))]
    public void Output_matches_the_approved_file(string name)
    {
        var c = GoldenCase.Named(name);
        var result = c.Run(c.Input);
        if (GoldenCase.Updating)
        {
            File.WriteAllText(c.OutputPath, result.Xml);
        }
        Assert.True(File.Exists(c.OutputPath), $"{c.OutputPath} is missing; run the tests with LIBVIRT_NVLINK_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(c.OutputPath), result.Xml);
    }

    [Theory]
    [MemberData(nameof(GoldenCase.Names), MemberType = typeof(GoldenCase))]
    public void Transforming_the_output_again_changes_nothing(string name)
    {
        var c = GoldenCase.Named(name);
        var once = c.Run(c.Input).Xml;
        var twice = c.Run(once);
        Assert.False(twice.Changed, string.Join("\n", twice.Messages));
        Assert.Equal(once, twice.Xml);
    }

    [Theory]
    [MemberData(nameof(GoldenCase.Names), MemberType = typeof(GoldenCase))]
    public void Undo_of_the_output_gives_back_the_input_byte_for_byte(string name)
    {
        var c = GoldenCase.Named(name);
        var result = c.Run(c.Input);
        var undone = result.Changed ? DomainTransformer.Undo(result.Xml).Xml : result.Xml;
        Assert.Equal(c.Input, undone);
    }

    [Fact]
    public void Untouched_libvirt_XML_survives_byte_for_byte()
    {
        var c = GoldenCase.Named("gpu1-write");
        var output = c.Run(c.Input).Xml;
        var input = c.Input;
        // Every line of the input is still there, in order: the transformer only inserts.
        var lines = output.Split('\n');
        var pos = 0;
        foreach (var line in input.Split('\n'))
        {
            while (pos < lines.Length && lines[pos] != line) pos++;
            Assert.True(pos < lines.Length, $"input line lost or reordered: {line}");
            pos++;
        }
    }

    [Fact]
    public void Domains_without_an_NVLink2_GPU_pass_through_unchanged_even_in_odd_formatting()
    {
        const string odd = "<domain type=\"kvm\"><name>a</name><memory>1048576</memory><os><type arch=\"x86_64\">hvm</type></os>" +
                           "<devices><disk type=\"file\"><source file=\"/x&amp;y\"/></disk></devices></domain>";
        var r = DomainTransformer.Transform(odd, SimulatedHosts.Topology(Simulation.BuiltInLayouts.Witherspoon6Gpu),
            GoldenCase.Named("gpu1-write").Options);
        Assert.False(r.Changed);
        Assert.Same(odd, r.Xml);
    }

    [Fact]
    public void Every_golden_output_carries_a_record_that_validates_against_the_schema()
    {
        var schemas = new System.Xml.Schema.XmlSchemaSet();
        schemas.Add(TransformRecord.NamespaceUri, Path.Combine(CliRunner.RepoRoot, "xml-schemas", "libvirt-nvlink-metadata.xsd"));
        var checkedRecords = 0;
        foreach (var c in GoldenCase.All())
        {
            var doc = XDocument.Parse(c.Run(c.Input).Xml);
            if (doc.Root!.Element("metadata")?.Element(TransformRecord.RootName) is not { } record) continue;
            var recordDoc = new XDocument(new XElement(record));
            var errors = new List<string>();
            recordDoc.Validate(schemas, (_, e) => errors.Add($"{c.Name}: {e.Message}"));
            Assert.Empty(errors);
            checkedRecords++;
        }
        Assert.True(checkedRecords >= 10);
    }

    [Fact]
    public void The_schema_rejects_a_record_that_undo_could_not_use()
    {
        var schemas = new System.Xml.Schema.XmlSchemaSet();
        schemas.Add(TransformRecord.NamespaceUri, Path.Combine(CliRunner.RepoRoot, "xml-schemas", "libvirt-nvlink-metadata.xsd"));
        var bad = XDocument.Parse($"<lvn:nvlink xmlns:lvn='{TransformRecord.NamespaceUri}' version='1'><lvn:added-hostdev source='6:0:0.1' gpu='0004:04:00.0'/></lvn:nvlink>");
        var errors = new List<string>();
        bad.Validate(schemas, (_, e) => errors.Add(e.Message));
        Assert.NotEmpty(errors);
    }
}
