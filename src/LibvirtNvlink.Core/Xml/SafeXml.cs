using System.Xml;
using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>Parses XML with DTDs and external entities refused outright: a domain XML has neither.</summary>
public static class SafeXml
{
    public static XDocument Parse(string text, string what)
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
        catch (XmlException e) when (e.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase))
        {
            throw new DomainXmlException($"{what}: refusing XML with a DTD or entity declarations (never resolved): {e.Message}", e);
        }
        catch (XmlException e)
        {
            throw new DomainXmlException($"{what} is not well-formed XML: {e.Message}", e);
        }
    }
}
