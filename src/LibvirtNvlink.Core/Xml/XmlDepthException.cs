namespace LibvirtNvlink.Xml;

/// <summary>Elements nest deeper than libvirt's parser accepts (see <see cref="SafeXml.MaxDepth"/>).</summary>
internal sealed class XmlDepthException(int maxDepth, int line)
    : Exception($"elements nest deeper than {maxDepth} levels (line {line}); libvirt refuses such a document")
{
    public int MaxDepth { get; } = maxDepth;

    public int Line { get; } = line;
}
