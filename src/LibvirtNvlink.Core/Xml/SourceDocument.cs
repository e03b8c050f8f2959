namespace LibvirtNvlink.Xml;

/// <summary>
/// The text a document was parsed from, kept as an annotation on the XDocument so that <see cref="SourceXmlWriter"/>
/// can copy every unedited byte from it. <see cref="RootStart"/>..<see cref="RootEnd"/> is the root element; what
/// lies before and after (XML declaration, comments, processing instructions, whitespace) is copied as it was.
/// </summary>
internal sealed class SourceDocument(string text, int rootStart, int rootEnd, char quote, string newLine)
{
    public string Text { get; } = text;

    public int RootStart { get; } = rootStart;

    public int RootEnd { get; } = rootEnd;

    /// <summary>The quote character of the document's first attribute (libvirt's ' when it has none): added attributes use it.</summary>
    public char Quote { get; } = quote;

    /// <summary>The document's line ending ("\n" or "\r\n"): added whitespace uses it.</summary>
    public string NewLine { get; } = newLine;
}
