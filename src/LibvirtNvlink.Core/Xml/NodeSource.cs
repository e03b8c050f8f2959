namespace LibvirtNvlink.Xml;

/// <summary>Where a text, CDATA, comment or processing-instruction node was written, with its value as parsed.</summary>
internal sealed class NodeSource(int start, int end, string value)
{
    public int Start { get; } = start;

    public int End { get; } = end;

    public string Value { get; } = value;
}
