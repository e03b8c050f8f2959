using System.Text;
using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>
/// Writes an XLinq tree the way libvirt formats XML (single-quoted attributes, "&lt;x/&gt;" for empty elements,
/// the five predefined entities escaped). Domain XML is written by <see cref="SourceXmlWriter"/>, which keeps the
/// input's own bytes; this is its fallback for a tree that was not parsed from text.
/// </summary>
public static class LibvirtXmlWriter
{
    public static string Write(XDocument doc)
    {
        var sb = new StringBuilder();
        if (doc.Declaration is { } decl)
        {
            sb.Append("<?xml version='").Append(decl.Version ?? "1.0").Append('\'');
            if (!string.IsNullOrEmpty(decl.Encoding)) sb.Append(" encoding='").Append(decl.Encoding).Append('\'');
            if (!string.IsNullOrEmpty(decl.Standalone)) sb.Append(" standalone='").Append(decl.Standalone).Append('\'');
            sb.Append("?>\n");
        }
        foreach (var node in doc.Nodes()) WriteNode(sb, node);
        return sb.ToString();
    }

    public static string Write(XElement element)
    {
        var sb = new StringBuilder();
        WriteNode(sb, element);
        return sb.ToString();
    }

    private static void WriteNode(StringBuilder sb, XNode node)
    {
        switch (node)
        {
            case XElement e:
                WriteElement(sb, e);
                break;
            case XCData c:
                sb.Append("<![CDATA[").Append(c.Value).Append("]]>");
                break;
            case XText t:
                Escape(sb, t.Value, attribute: false);
                break;
            case XComment c:
                sb.Append("<!--").Append(c.Value).Append("-->");
                break;
            case XProcessingInstruction pi:
                sb.Append("<?").Append(pi.Target);
                if (pi.Data.Length > 0) sb.Append(' ').Append(pi.Data);
                sb.Append("?>");
                break;
            case XDocumentType:
                // Never reached: documents with a DTD are refused at load.
                break;
        }
    }

    private static void WriteElement(StringBuilder sb, XElement e)
    {
        var name = QualifiedName(e, e.Name, isAttribute: false);
        sb.Append('<').Append(name);
        foreach (var a in e.Attributes())
        {
            sb.Append(' ');
            if (a.IsNamespaceDeclaration)
            {
                sb.Append(a.Name.Namespace == XNamespace.None ? "xmlns" : "xmlns:" + a.Name.LocalName);
            }
            else
            {
                sb.Append(QualifiedName(e, a.Name, isAttribute: true));
            }
            sb.Append("='");
            Escape(sb, a.Value, attribute: true);
            sb.Append('\'');
        }
        if (e.IsEmpty)
        {
            sb.Append("/>");
            return;
        }
        sb.Append('>');
        foreach (var n in e.Nodes()) WriteNode(sb, n);
        sb.Append("</").Append(name).Append('>');
    }

    private static string QualifiedName(XElement scope, XName name, bool isAttribute)
    {
        if (name.Namespace == XNamespace.None) return name.LocalName;
        if (name.Namespace == XNamespace.Xml) return "xml:" + name.LocalName;
        var prefix = scope.GetPrefixOfNamespace(name.Namespace);
        if (prefix is null)
        {
            // A default namespace applies to elements only; XLinq keeps the declaration as an attribute.
            if (!isAttribute) return name.LocalName;
            throw new InvalidOperationException($"attribute {name} has a namespace with no prefix in scope");
        }
        return prefix + ":" + name.LocalName;
    }

    private static void Escape(StringBuilder sb, string value, bool attribute)
    {
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\'': sb.Append("&apos;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\n' when attribute: sb.Append("&#10;"); break;
                case '\r': sb.Append("&#13;"); break;
                case '\t' when attribute: sb.Append("&#9;"); break;
                default: sb.Append(ch); break;
            }
        }
    }
}
