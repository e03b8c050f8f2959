namespace LibvirtNvlink.Xml;

/// <summary>The result of <see cref="XmlSourceScanner.Scan"/>: the root element's tokens in document order.</summary>
internal sealed class XmlSourceScan(List<XmlToken> tokens, List<XmlAttributeToken> attributes, int rootStart, int rootEnd, char quote, string newLine)
{
    public List<XmlToken> Tokens { get; } = tokens;

    public List<XmlAttributeToken> Attributes { get; } = attributes;

    public int RootStart { get; } = rootStart;

    public int RootEnd { get; } = rootEnd;

    public char Quote { get; } = quote;

    public string NewLine { get; } = newLine;
}
