using System.Text;
using BenchmarkDotNet.Attributes;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Benchmarks;

/// <summary>
/// Domain parsing time against nesting depth (issue #13, point 7): up to libvirt's limit a document parses, beyond it
/// it is refused by one linear scan before any tree is built. Depths beyond the limit measure the refusal.
/// </summary>
[MemoryDiagnoser]
public class ParseDepthBenchmarks
{
    private string _xml = "";

    [Params(16, 257, 10_000, 1_000_000)]
    public int Depth { get; set; }

    [GlobalSetup]
    public void Setup() => _xml = ParseInputs.Nested(Depth);

    [Benchmark]
    public bool Parse_domain_nested_to_depth()
    {
        try
        {
            return DomainDefinition.Parse(_xml).Root.HasElements;
        }
        catch (DomainXmlException)
        {
            return false;
        }
    }
}

/// <summary>Domain parsing, one edit and writing back against document size, at a domain's usual depth: linear.</summary>
[MemoryDiagnoser]
public class ParseSizeBenchmarks
{
    private string _xml = "";

    [Params(16, 256, 4096, 65536)]
    public int SizeKiB { get; set; }

    [GlobalSetup]
    public void Setup() => _xml = ParseInputs.Wide(SizeKiB << 10);

    /// <summary>One edit, so the whole byte-keeping path runs: depth pass, reader, scan, annotation, splicing writer.</summary>
    [Benchmark]
    public int Parse_edit_and_write_domain_of_size()
    {
        var d = DomainDefinition.Parse(_xml);
        d.Root.SetAttributeValue("id", "1");
        return d.ToXml().Length;
    }
}

internal static class ParseInputs
{
    /// <summary>A domain whose metadata nests to <paramref name="depth"/> levels, root included.</summary>
    public static string Nested(int depth)
    {
        var inner = Math.Max(0, depth - 3);
        var sb = new StringBuilder("<domain type='kvm'><name>deep</name><memory>1048576</memory><metadata><m:a xmlns:m='urn:x'>");
        for (var i = 0; i < inner; i++) sb.Append("<x>");
        for (var i = 0; i < inner; i++) sb.Append("</x>");
        return sb.Append("</m:a></metadata><os><type arch='x86_64'>hvm</type></os></domain>").ToString();
    }

    /// <summary>A domain of about <paramref name="bytes"/> characters: disks, one per line, as libvirt writes them.</summary>
    public static string Wide(int bytes)
    {
        var sb = new StringBuilder("<domain type='kvm'>\n  <name>wide</name>\n  <memory>1048576</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <devices>\n");
        for (var i = 0; sb.Length < bytes; i++)
        {
            sb.Append("    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/d").Append(i).Append(".qcow2'/>\n    </disk>\n");
        }
        return sb.Append("  </devices>\n</domain>\n").ToString();
    }
}
