namespace LibvirtNvlink.Xml;

/// <summary>
/// A single linear pass over a document's text that finds where every piece of the root element was written, so
/// <see cref="SourceXmlWriter"/> can copy unedited pieces byte for byte. It also enforces libvirt's nesting limit
/// before anything builds a tree. It trusts the XML reader for well-formedness: on text it cannot follow it returns
/// null and the reader reports the error.
/// </summary>
internal static class XmlSourceScanner
{
    /// <summary>Only the depth check: the same pass, recording nothing (no allocation).</summary>
    /// <exception cref="XmlDepthException">Elements nest deeper than <see cref="SafeXml.MaxDepth"/>.</exception>
    public static void CheckDepth(string text) => Scan(text, record: false);

    /// <exception cref="XmlDepthException">Elements nest deeper than <see cref="SafeXml.MaxDepth"/>.</exception>
    public static XmlSourceScan? Scan(string text) => Scan(text, record: true);

    private static XmlSourceScan? Scan(string text, bool record)
    {
        var tokens = record ? new List<XmlToken>() : null;
        var attributes = record ? new List<XmlAttributeToken>() : null;
        var attributeCount = 0;
        var quote = '\0';
        var pos = 0;
        var n = text.Length;

        // Prolog: BOM, XML declaration, comments, processing instructions, whitespace. A DOCTYPE is left to the reader.
        while (true)
        {
            while (pos < n && (IsSpace(text[pos]) || text[pos] == '\uFEFF')) pos++;
            if (pos >= n || text[pos] != '<') return null;
            if (At(text, pos, "<?")) pos = After(text, pos + 2, "?>");
            else if (At(text, pos, "<!--")) pos = After(text, pos + 4, "-->");
            else if (pos + 1 < n && text[pos + 1] != '!' && text[pos + 1] != '/') break;
            else return null;
            if (pos < 0) return null;
        }

        var rootStart = pos;
        var depth = 0;
        do
        {
            if (pos >= n) return null;
            var start = pos;
            if (text[pos] != '<')
            {
                var lt = text.IndexOf('<', pos);
                if (lt < 0) return null;
                tokens?.Add(new XmlToken(XmlTokenKind.Text, start, lt));
                pos = lt;
                continue;
            }
            if (At(text, pos, "</"))
            {
                pos = After(text, pos + 2, ">");
                if (pos < 0) return null;
                tokens?.Add(new XmlToken(XmlTokenKind.EndTag, start, pos));
                depth--;
            }
            else if (At(text, pos, "<!--"))
            {
                pos = After(text, pos + 4, "-->");
                if (pos < 0) return null;
                tokens?.Add(new XmlToken(XmlTokenKind.Comment, start, pos));
            }
            else if (At(text, pos, "<![CDATA["))
            {
                pos = After(text, pos + 9, "]]>");
                if (pos < 0) return null;
                tokens?.Add(new XmlToken(XmlTokenKind.CData, start, pos));
            }
            else if (At(text, pos, "<?"))
            {
                pos = After(text, pos + 2, "?>");
                if (pos < 0) return null;
                tokens?.Add(new XmlToken(XmlTokenKind.ProcessingInstruction, start, pos));
            }
            else
            {
                pos++;
                while (pos < n && !IsSpace(text[pos]) && text[pos] != '/' && text[pos] != '>') pos++;
                var nameEnd = pos;
                var first = attributeCount;
                int tail;
                while (true)
                {
                    tail = pos;
                    while (pos < n && IsSpace(text[pos])) pos++;
                    if (pos >= n) return null;
                    if (text[pos] == '>' || text[pos] == '/') break;
                    var nameStart = pos;
                    while (pos < n && !IsSpace(text[pos]) && text[pos] != '=') pos++;
                    var attrNameEnd = pos;
                    while (pos < n && IsSpace(text[pos])) pos++;
                    if (pos >= n || text[pos] != '=') return null;
                    pos++;
                    while (pos < n && IsSpace(text[pos])) pos++;
                    if (pos >= n || (text[pos] != '\'' && text[pos] != '"')) return null;
                    var q = text[pos];
                    if (quote == '\0') quote = q;
                    var close = text.IndexOf(q, pos + 1);
                    if (close < 0) return null;
                    pos = close + 1;
                    attributes?.Add(new XmlAttributeToken(tail, nameStart, attrNameEnd, pos, q));
                    attributeCount++;
                }
                var selfClosing = text[pos] == '/';
                if (selfClosing && (pos + 1 >= n || text[pos + 1] != '>')) return null;
                pos += selfClosing ? 2 : 1;
                tokens?.Add(new XmlToken(XmlTokenKind.StartTag, start, pos, nameEnd, tail, selfClosing, first, attributeCount - first));
                if (!selfClosing && ++depth > SafeXml.MaxDepth) throw new XmlDepthException(SafeXml.MaxDepth, LineAt(text, start));
            }
        }
        while (depth > 0);

        if (tokens is null || attributes is null) return null;
        // The root's own line ending: a declaration or comment before it may have been added by another tool.
        var nl = text.IndexOf('\n', rootStart, pos - rootStart);
        var newLine = nl > rootStart && text[nl - 1] == '\r' ? "\r\n" : "\n";
        return new XmlSourceScan(tokens, attributes, rootStart, pos, quote == '\0' ? '\'' : quote, newLine);
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r';

    private static bool At(string text, int pos, string what) => string.CompareOrdinal(text, pos, what, 0, what.Length) == 0;

    /// <summary>The position right after the next <paramref name="end"/> at or after <paramref name="from"/>, or -1.</summary>
    private static int After(string text, int from, string end)
    {
        var i = text.IndexOf(end, from, StringComparison.Ordinal);
        return i < 0 ? -1 : i + end.Length;
    }

    private static int LineAt(string text, int pos)
    {
        var line = 1;
        for (var i = 0; i < pos; i++)
        {
            if (text[i] == '\n') line++;
        }
        return line;
    }
}
