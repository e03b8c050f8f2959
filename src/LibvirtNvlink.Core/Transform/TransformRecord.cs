using System.Xml.Linq;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

/// <summary>
/// What the transformer added, kept in the domain's &lt;metadata&gt; under our own namespace
/// (xml-schemas/libvirt-nvlink-metadata.xsd), so that --undo removes exactly that and nothing the user wrote.
/// Keys are host source addresses and controller indexes: they survive libvirt reformatting the XML on define.
/// </summary>
public sealed class TransformRecord
{
    public const string NamespaceUri = "http://libvirt-nvlink.org/xmlns/domain/1.0";
    public const string Prefix = "lvn";
    public static readonly XNamespace Ns = NamespaceUri;
    public static readonly XName RootName = Ns + "nvlink";

    private TransformRecord(XElement element) => Element = element;

    public XElement Element { get; }

    public static TransformRecord? Find(XElement domain) =>
        domain.Element("metadata")?.Element(RootName) is { } e ? new TransformRecord(e) : null;

    /// <summary>Finds the record, or creates it (and &lt;metadata&gt; if needed) in libvirt's element order.</summary>
    public static TransformRecord FindOrCreate(XElement domain)
    {
        if (Find(domain) is { } existing) return existing;
        var metadata = domain.Element("metadata");
        var createdMetadata = false;
        if (metadata is null)
        {
            metadata = new XElement("metadata");
            var anchor = domain.Elements().LastOrDefault(e => e.Name.LocalName is "name" or "uuid" or "genid" or "title" or "description");
            if (anchor is null) XmlLayout.AppendChild(domain, metadata);
            else XmlLayout.InsertAfter(anchor, metadata);
            createdMetadata = true;
        }
        var record = new XElement(RootName,
            new XAttribute(XNamespace.Xmlns + Prefix, NamespaceUri),
            new XAttribute("version", "1"));
        if (createdMetadata) record.Add(new XAttribute("created-metadata", "yes"));
        XmlLayout.AppendChild(metadata, record);
        return new TransformRecord(record);
    }

    public void AddedHostdev(string source, string gpu) =>
        Add(new XElement(Ns + "added-hostdev", new XAttribute("source", source), new XAttribute("gpu", gpu)));

    public void AddedAddress(string source) => Add(new XElement(Ns + "added-address", new XAttribute("source", source)));

    public void AddedController(int index) =>
        Add(new XElement(Ns + "added-controller", new XAttribute("index", index.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    /// <param name="action">created (whole memtune), added (hard_limit into an existing memtune), replaced.</param>
    public void Memtune(string action, ulong valueKiB, string? previousValue, string? previousUnit)
    {
        var e = new XElement(Ns + "memtune", new XAttribute("action", action),
            new XAttribute("value", valueKiB.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (previousValue is not null) e.Add(new XAttribute("previous", previousValue));
        if (previousUnit is not null) e.Add(new XAttribute("previous-unit", previousUnit));
        Add(e);
    }

    public IEnumerable<string> AddedHostdevSources => Element.Elements(Ns + "added-hostdev").Select(e => (string?)e.Attribute("source") ?? "");

    public IEnumerable<string> AddedAddressSources => Element.Elements(Ns + "added-address").Select(e => (string?)e.Attribute("source") ?? "");

    public IEnumerable<int> AddedControllers => Element.Elements(Ns + "added-controller")
        .Select(e => int.TryParse((string?)e.Attribute("index"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1)
        .Where(i => i >= 0);

    public XElement? MemtuneEntry => Element.Elements(Ns + "memtune").LastOrDefault();

    public bool CreatedMetadata => (string?)Element.Attribute("created-metadata") == "yes";

    /// <summary>An entry of the Grace edits (see <see cref="GraceDomainTransformer"/>): kind plus attributes.</summary>
    public void Note(string kind, params (string Name, string Value)[] attributes) =>
        Add(new XElement(Ns + kind, attributes.Select(a => new XAttribute(a.Name, a.Value))));

    public IEnumerable<XElement> Entries(string kind) => Element.Elements(Ns + kind);

    private void Add(XElement entry) => XmlLayout.AppendChild(Element, entry);
}
