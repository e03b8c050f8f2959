namespace LibvirtNvlink.Xml;

/// <summary>
/// Where an element of the parsed document was written: its start tag (<see cref="Start"/> to
/// <see cref="StartTagEnd"/>), the raw qualified name, the end of its last attribute (<see cref="TailStart"/>: the
/// whitespace before '&gt;' or '/&gt;' starts there), its end tag when it had one, and how many attributes it had.
/// </summary>
internal sealed class ElementSource(int start, int nameEnd, int tailStart, int startTagEnd, bool selfClosing, int attributeCount)
{
    public int Start { get; } = start;

    public int NameEnd { get; } = nameEnd;

    public int TailStart { get; } = tailStart;

    public int StartTagEnd { get; } = startTagEnd;

    public bool SelfClosing { get; } = selfClosing;

    public int AttributeCount { get; } = attributeCount;

    /// <summary>Start of "&lt;/name&gt;"; -1 for a self-closing element.</summary>
    public int EndTagStart { get; set; } = -1;

    public int End { get; set; } = -1;
}
