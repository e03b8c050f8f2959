using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>
/// Pairs the tree the XML reader built with the tokens <see cref="XmlSourceScanner"/> found, in document order, and
/// annotates each node with where it was written. One pass, no recursion.
/// </summary>
internal static class SourceAnnotator
{
    /// <returns>False when tree and tokens disagree (then nothing can be kept byte for byte).</returns>
    public static bool Attach(XDocument doc, string text, XmlSourceScan scan)
    {
        var root = doc.Root;
        if (root is null) return false;
        var tokens = scan.Tokens;
        var t = 0;
        var open = new Stack<XElement>();
        XNode? node = root;
        while (true)
        {
            if (node is null)
            {
                if (open.Count == 0 || t >= tokens.Count) return false;
                var parent = open.Pop();
                var end = tokens[t++];
                if (end.Kind != XmlTokenKind.EndTag) return false;
                var source = parent.Annotation<ElementSource>()!;
                source.EndTagStart = end.Start;
                source.End = end.End;
                if (open.Count == 0) break;
                node = parent.NextNode;
                continue;
            }
            if (t >= tokens.Count) return false;
            var token = tokens[t++];
            switch (node)
            {
                case XElement e:
                    if (token.Kind != XmlTokenKind.StartTag || token.SelfClosing != e.IsEmpty || !SameLocalName(text, token, e)) return false;
                    if (!AttachAttributes(e, scan, token)) return false;
                    var es = new ElementSource(token.Start, token.NameEnd, token.TailStart, token.End, token.SelfClosing, token.AttributeCount);
                    e.AddAnnotation(es);
                    if (token.SelfClosing)
                    {
                        es.End = token.End;
                        if (open.Count == 0) return t == tokens.Count;
                        node = e.NextNode;
                    }
                    else
                    {
                        open.Push(e);
                        node = e.FirstNode;
                    }
                    continue;
                case XCData c when token.Kind == XmlTokenKind.CData:
                    c.AddAnnotation(new NodeSource(token.Start, token.End, c.Value));
                    break;
                case XText x when x is not XCData && token.Kind == XmlTokenKind.Text:
                    x.AddAnnotation(new NodeSource(token.Start, token.End, x.Value));
                    break;
                case XComment m when token.Kind == XmlTokenKind.Comment:
                    m.AddAnnotation(new NodeSource(token.Start, token.End, m.Value));
                    break;
                case XProcessingInstruction p when token.Kind == XmlTokenKind.ProcessingInstruction:
                    p.AddAnnotation(new NodeSource(token.Start, token.End, p.Data));
                    break;
                default:
                    return false;
            }
            node = node.NextNode;
        }
        return t == tokens.Count;
    }

    private static bool AttachAttributes(XElement e, XmlSourceScan scan, XmlToken token)
    {
        var i = 0;
        for (var a = e.FirstAttribute; a is not null; a = a.NextAttribute, i++)
        {
            if (i >= token.AttributeCount) return false;
            var at = scan.Attributes[token.FirstAttribute + i];
            a.AddAnnotation(new AttributeSource(at.Start, at.NameStart, at.NameEnd, at.End, i, at.Quote, a.Value));
        }
        return i == token.AttributeCount;
    }

    private static bool SameLocalName(string text, XmlToken token, XElement e)
    {
        var raw = text.AsSpan(token.Start + 1, token.NameEnd - token.Start - 1);
        var colon = raw.IndexOf(':');
        return raw[(colon + 1)..].SequenceEqual(e.Name.LocalName);
    }
}
