using LibvirtNvlink.Domain;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The promise of the README's "Formatting" bullet: transform keeps every byte it did not edit, what it adds follows
/// the document's quotes, indentation and line endings, --undo gives back the input byte for byte.
/// </summary>
public class ByteExactTransformTests
{
    private static readonly TransformOptions Write9 = new(MemlockMode.Write, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption));

    private static string Nv2Domain(string quote = "\"", string nl = "\n", string extraHead = "", string hostdevExtra = "") =>
        string.Join(nl,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<!-- written by hand -->",
            $"<domain type={quote}kvm{quote} xmlns:x={quote}urn:x{quote}>",
            "  <name>hand</name>",
            $"  <description>it's \"tuned\" &amp; &lt;ready&gt; &#233;t&#xE9; &apos;q&apos;</description>",
            extraHead +
            $"  <memory unit={quote}GiB{quote}>64</memory>",
            $"  <os>",
            $"    <type arch={quote}ppc64le{quote}  machine = {quote}pseries{quote}>hvm</type>",
            $"  </os>",
            $"  <x:note x:a={quote}a&amp;b{quote}><![CDATA[<raw> & ]]><?keep this?></x:note>",
            $"  <devices>",
            $"    <hostdev mode={quote}subsystem{quote} type={quote}pci{quote} managed={quote}yes{quote}>",
            $"      <source>",
            $"        <address domain={quote}0x0004{quote} bus={quote}0x04{quote} slot={quote}0x00{quote} function={quote}0x0{quote}/>",
            $"      </source>{hostdevExtra}",
            $"    </hostdev>",
            $"  </devices>",
            "</domain>",
            "<!-- trailer -->",
            "");

    private static TransformResult Transform(string xml) =>
        DomainTransformer.Transform(xml, SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu), Write9);

    [Theory]
    [InlineData("\"", "\n")]
    [InlineData("'", "\n")]
    [InlineData("\"", "\r\n")]
    public void Undo_gives_back_a_hand_written_document_byte_for_byte(string quote, string nl)
    {
        var input = Nv2Domain(quote, nl);
        var once = Transform(input);
        Assert.True(once.Changed);
        Assert.Equal(input, DomainTransformer.Undo(once.Xml).Xml);
        var twice = Transform(once.Xml);
        Assert.False(twice.Changed);
        Assert.Equal(once.Xml, twice.Xml);
    }

    [Fact]
    public void Every_unedited_construct_keeps_its_spelling()
    {
        var output = Transform(Nv2Domain()).Xml;
        foreach (var kept in new[]
                 {
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- written by hand -->\n<domain type=\"kvm\" xmlns:x=\"urn:x\">",
                     "<description>it's \"tuned\" &amp; &lt;ready&gt; &#233;t&#xE9; &apos;q&apos;</description>",
                     "<type arch=\"ppc64le\"  machine = \"pseries\">hvm</type>",
                     "<x:note x:a=\"a&amp;b\"><![CDATA[<raw> & ]]><?keep this?></x:note>",
                     "</domain>\n<!-- trailer -->\n",
                 })
        {
            Assert.Contains(kept, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("'")]
    public void Added_elements_use_the_document_quote(string quote)
    {
        var output = Transform(Nv2Domain(quote)).Xml;
        var other = quote == "\"" ? "'" : "\"";
        var added = output[output.IndexOf("<memtune>", StringComparison.Ordinal)..output.IndexOf("</memtune>", StringComparison.Ordinal)];
        Assert.Contains($"unit={quote}KiB{quote}", added, StringComparison.Ordinal);
        var afterDeclaration = output[output.IndexOf("<domain", StringComparison.Ordinal)..];
        Assert.DoesNotContain($"={other}", afterDeclaration, StringComparison.Ordinal);
    }

    [Fact]
    public void Added_lines_follow_the_document_line_ending()
    {
        var output = Transform(Nv2Domain("\"", "\r\n")).Xml;
        Assert.DoesNotContain("\n", output.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  <metadata/>\n")]
    [InlineData("  <metadata></metadata>\n")]
    [InlineData("  <metadata>\n  </metadata>\n")]
    [InlineData("  <metadata>\n\n</metadata>\n")]
    [InlineData("  <metadata>  </metadata>\n")]
    [InlineData("  <metadata><!-- c --></metadata>\n")]
    [InlineData("  <memtune></memtune>\n")]
    [InlineData("  <memtune>\n  </memtune>\n")]
    public void Undo_restores_every_form_of_an_element_the_transform_added_into(string head)
    {
        var input = Nv2Domain(extraHead: head);
        var once = Transform(input);
        Assert.True(once.Changed);
        Assert.Equal(input, DomainTransformer.Undo(once.Xml).Xml);
    }

    [Fact]
    public void An_edited_attribute_keeps_its_own_quote_and_position()
    {
        var input = Nv2Domain(extraHead: "  <memtune>\n    <hard_limit unit='GiB' >1</hard_limit>\n  </memtune>\n");
        var output = Transform(input).Xml;
        Assert.Matches("<hard_limit unit='KiB' >[0-9]+</hard_limit>", output);
        Assert.Equal(input, DomainTransformer.Undo(output).Xml);
    }

    [Fact]
    public void Nesting_deeper_than_libvirt_accepts_is_refused_with_the_limit_named()
    {
        static string Nested(int depth) => "<domain>" + string.Concat(Enumerable.Repeat("<x>", depth - 1)) + string.Concat(Enumerable.Repeat("</x>", depth - 1)) + "</domain>";
        Assert.NotNull(DomainDefinition.Parse(Nested(SafeXml.MaxDepth)));
        var e = Assert.Throws<DomainXmlException>(() => DomainDefinition.Parse(Nested(SafeXml.MaxDepth + 1)));
        Assert.Contains("deeper than 257 levels", e.Message, StringComparison.Ordinal);
        Assert.Contains("XML_PARSE_HUGE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deep_document_is_refused_by_the_depth_check_before_the_reader_sees_it()
    {
        // A million open levels, never closed: the reader would report the missing end tags; the depth check
        // (one linear pass, before any tree is built) answers first. Timings: benchmarks/ParseDepthBenchmarks.
        var deep = "<domain>" + string.Concat(Enumerable.Repeat("<a>", 1_000_000));
        var e = Assert.Throws<DomainXmlException>(() => DomainDefinition.Parse(deep));
        Assert.Contains("deeper than 257 levels (line 1)", e.Message, StringComparison.Ordinal);
    }
}
