using System.Xml;
using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>Parses XML with DTDs and external entities refused outright: a domain XML has neither.</summary>
public static class SafeXml
{
    /// <summary>
    /// The deepest nesting libvirt accepts. libvirt parses domain XML with libxml2 without XML_PARSE_HUGE
    /// (virXMLParseHelper in src/util/virxml.c), so libxml2's xmlParserMaxDepth (256) applies: nodePush refuses a
    /// node when more than 256 are already open, i.e. a 258th level. Checked here with libvirt 9.0/libxml2 2.9.14:
    /// 'virsh -c test:///default define' accepts 257 nested elements and refuses 258 with "Excessive depth in
    /// document: 256 use XML_PARSE_HUGE option".
    /// </summary>
    public const int MaxDepth = 257;

    public static XDocument Parse(string text, string what) => Load(text, what);

    /// <summary>
    /// Parses a document the way <see cref="Parse"/> does, refuses nesting deeper than libvirt accepts
    /// (<see cref="MaxDepth"/>) before building any tree, and remembers where each node was written
    /// so that <see cref="SourceXmlWriter"/> gives back every unedited byte. Time and memory are linear in the size.
    /// </summary>
    public static XDocument ParseKeepingSource(string text, string what)
    {
        try
        {
            XmlSourceScanner.CheckDepth(text);
        }
        catch (XmlDepthException e)
        {
            throw new DomainXmlException(
                $"{what}: {e.Message} (libxml2's limit without XML_PARSE_HUGE, which libvirt does not set). " +
                "A domain XML nests a dozen levels; remove the nesting, then try again.", e);
        }
        var doc = Load(text, what);
        // Where each node was written is worked out on the first edit only (the tree is still as parsed then):
        // documents that are only read — the hook, an already complete domain — pay for one depth pass and no more.
        var source = new SourceDocument(text, doc);
        doc.AddAnnotation(source);
        doc.Changing += source.BeforeFirstChange;
        return doc;
    }

    private static XDocument Load(string text, string what)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            IgnoreWhitespace = false,
        };
        try
        {
            using var sr = new StringReader(text);
            using var reader = XmlReader.Create(sr, settings);
            return XDocument.Load(reader, LoadOptions.PreserveWhitespace);
        }
        catch (XmlException e) when (PrologDeclaresDtd(text))
        {
            throw new DomainXmlException($"{what}: refusing XML with a DTD or entity declarations (never resolved): {e.Message}", e);
        }
        catch (XmlException e)
        {
            throw new DomainXmlException($"{what} is not well-formed XML: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether the prolog (what comes before the root element: the declaration, comments, PIs, whitespace) holds a
    /// &lt;!DOCTYPE&gt;, the only place XML allows one. Read from the text, not from the parser's message, which is
    /// translated with the runtime's resources.
    /// </summary>
    internal static bool PrologDeclaresDtd(string text)
    {
        var at = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        while (at < text.Length)
        {
            if (char.IsWhiteSpace(text[at]))
            {
                at++;
            }
            else if (string.CompareOrdinal(text, at, "<?", 0, 2) == 0)
            {
                var end = text.IndexOf("?>", at + 2, StringComparison.Ordinal);
                if (end < 0) return false;
                at = end + 2;
            }
            else if (string.CompareOrdinal(text, at, "<!--", 0, 4) == 0)
            {
                var end = text.IndexOf("-->", at + 4, StringComparison.Ordinal);
                if (end < 0) return false;
                at = end + 3;
            }
            else
            {
                return string.CompareOrdinal(text, at, "<!DOCTYPE", 0, 9) == 0;
            }
        }
        return false;
    }
}
