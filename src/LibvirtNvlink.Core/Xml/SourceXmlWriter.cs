using System.Text;
using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>
/// Writes a document parsed by <see cref="SafeXml.Parse"/> back as its original text with the edits spliced in:
/// every node and attribute that was neither edited nor removed is copied from the source span it was read from
/// (quote characters, entity and character references, whitespace inside tags, line endings, comments, CDATA,
/// processing instructions, the XML declaration and whatever surrounds the root element). Only what was added or
/// changed is written anew: attributes in the quote of the attribute they replace (added ones in the document's
/// quote), text escaped minimally, whitespace with the document's line ending.
/// </summary>
public static class SourceXmlWriter
{
    public static string Write(XDocument doc)
    {
        if (doc.Annotation<SourceDocument>() is not { } source || doc.Root is not { } root)
        {
            return LibvirtXmlWriter.Write(doc);
        }
        if (!source.Edited) return source.Text;
        var sb = new StringBuilder(source.Text.Length + 1024);
        sb.Append(source.Text, 0, source.RootStart);
        new Writer(sb, source).Element(root);
        sb.Append(source.Text, source.RootEnd, source.Text.Length - source.RootEnd);
        return sb.ToString();
    }

    private readonly struct Writer(StringBuilder sb, SourceDocument source)
    {
        private string Text => source.Text;

        public void Element(XElement e)
        {
            if (e.Annotation<ElementSource>() is not { } es)
            {
                NewElement(e);
                return;
            }
            // A start tag changes form when the transform expands <x/> or undo collapses it again: the whitespace
            // before '/>' or '>' stays, so the round trip gives back "<x  />" as it was.
            var closeStart = es.StartTagEnd - (es.SelfClosing ? 2 : 1);
            var close = e.IsEmpty ? "/>" : ">";
            if (AttributesUnchanged(e, es))
            {
                sb.Append(Text, es.Start, closeStart - es.Start);
            }
            else
            {
                sb.Append(Text, es.Start, es.NameEnd - es.Start);
                for (var a = e.FirstAttribute; a is not null; a = a.NextAttribute) Attribute(e, a);
                sb.Append(Text, es.TailStart, closeStart - es.TailStart);
            }
            sb.Append(close);
            if (e.IsEmpty) return;
            for (var n = e.FirstNode; n is not null; n = n.NextNode) Node(n);
            if (es.EndTagStart >= 0) sb.Append(Text, es.EndTagStart, es.End - es.EndTagStart);
            else sb.Append("</").Append(Text, es.Start + 1, es.NameEnd - es.Start - 1).Append('>');
        }

        private static bool AttributesUnchanged(XElement e, ElementSource es)
        {
            var i = 0;
            for (var a = e.FirstAttribute; a is not null; a = a.NextAttribute, i++)
            {
                if (a.Annotation<AttributeSource>() is not { } s || s.Index != i || !ReferenceEquals(s.Value, a.Value) && s.Value != a.Value) return false;
            }
            return i == es.AttributeCount;
        }

        private void Attribute(XElement e, XAttribute a)
        {
            if (a.Annotation<AttributeSource>() is { } s)
            {
                if (s.Value == a.Value)
                {
                    sb.Append(Text, s.Start, s.End - s.Start);
                    return;
                }
                sb.Append(Text, s.Start, s.NameEnd - s.Start).Append('=').Append(s.Quote);
                Escape(a.Value, s.Quote);
                sb.Append(s.Quote);
                return;
            }
            sb.Append(' ').Append(AttributeName(e, a)).Append('=').Append(source.Quote);
            Escape(a.Value, source.Quote);
            sb.Append(source.Quote);
        }

        private void Node(XNode n)
        {
            switch (n)
            {
                case XElement e:
                    Element(e);
                    return;
                case XCData c:
                    if (!Copy(n, c.Value)) sb.Append("<![CDATA[").Append(c.Value).Append("]]>");
                    return;
                case XText t:
                    if (!Copy(n, t.Value) && !CopyPrefix(n, t.Value)) Escape(t.Value, quote: null);
                    return;
                case XComment c:
                    if (!Copy(n, c.Value)) sb.Append("<!--").Append(c.Value).Append("-->");
                    return;
                case XProcessingInstruction pi:
                    if (!Copy(n, pi.Data))
                    {
                        sb.Append("<?").Append(pi.Target);
                        if (pi.Data.Length > 0) sb.Append(' ').Append(pi.Data);
                        sb.Append("?>");
                    }
                    return;
            }
        }

        /// <summary>Copies the node's source span when its value is still the one parsed.</summary>
        private bool Copy(XNode n, string value)
        {
            if (n.Annotation<NodeSource>() is not { } s || !ReferenceEquals(s.Value, value) && s.Value != value) return false;
            sb.Append(Text, s.Start, s.End - s.Start);
            return true;
        }

        /// <summary>
        /// Copies the source of whitespace that was shortened to a prefix of itself (Remove takes the line an insertion
        /// added after a reparse merged it into the text before), so its own line endings stay.
        /// </summary>
        private bool CopyPrefix(XNode n, string value)
        {
            if (n.Annotation<NodeSource>() is not { } s || !s.Value.StartsWith(value, StringComparison.Ordinal)) return false;
            var raw = Text.AsSpan(s.Start, s.End - s.Start);
            if (raw.ContainsAnyExcept(" \t\r\n")) return false;
            var i = 0;
            for (var k = 0; k < value.Length; k++, i++)
            {
                // The reader reads "\r\n" (and a lone "\r") as "\n".
                if (raw[i] == '\r' && i + 1 < raw.Length && raw[i + 1] == '\n') i++;
            }
            sb.Append(raw[..i]);
            return true;
        }

        private void NewElement(XElement e)
        {
            var name = ElementName(e);
            sb.Append('<').Append(name);
            for (var a = e.FirstAttribute; a is not null; a = a.NextAttribute) Attribute(e, a);
            if (e.IsEmpty)
            {
                sb.Append("/>");
                return;
            }
            sb.Append('>');
            for (var n = e.FirstNode; n is not null; n = n.NextNode) Node(n);
            sb.Append("</").Append(name).Append('>');
        }

        private void Escape(string value, char? quote)
        {
            foreach (var ch in value)
            {
                switch (ch)
                {
                    case '<': sb.Append("&lt;"); break;
                    case '>': sb.Append("&gt;"); break;
                    case '&': sb.Append("&amp;"); break;
                    case '\'' when quote == '\'': sb.Append("&apos;"); break;
                    case '"' when quote == '"': sb.Append("&quot;"); break;
                    case '\n' when quote is not null: sb.Append("&#10;"); break;
                    case '\n': sb.Append(source.NewLine); break;
                    case '\r': sb.Append("&#13;"); break;
                    case '\t' when quote is not null: sb.Append("&#9;"); break;
                    default: sb.Append(ch); break;
                }
            }
        }

        private static string ElementName(XElement e)
        {
            if (e.Name.Namespace == XNamespace.None) return e.Name.LocalName;
            var prefix = e.GetPrefixOfNamespace(e.Name.Namespace);
            return prefix is null ? e.Name.LocalName : prefix + ":" + e.Name.LocalName;
        }

        private static string AttributeName(XElement e, XAttribute a)
        {
            if (a.IsNamespaceDeclaration) return a.Name.Namespace == XNamespace.None ? "xmlns" : "xmlns:" + a.Name.LocalName;
            if (a.Name.Namespace == XNamespace.None) return a.Name.LocalName;
            if (a.Name.Namespace == XNamespace.Xml) return "xml:" + a.Name.LocalName;
            return (e.GetPrefixOfNamespace(a.Name.Namespace) ?? throw new InvalidOperationException($"attribute {a.Name} has no prefix in scope")) + ":" + a.Name.LocalName;
        }
    }
}
