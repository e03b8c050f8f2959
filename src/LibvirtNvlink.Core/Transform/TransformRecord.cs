using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
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

    internal void GraceGpu(PciAddress source, IEnumerable<int> nodes, IEnumerable<int> hostNodes, GiForm form) =>
        Add(new XElement(Ns + "grace-gpu", new XAttribute("source", source.ToString()), new XAttribute("nodes", Nodeset.Format(nodes)),
            new XAttribute("host-nodes", Nodeset.Format(hostNodes)), new XAttribute("form", form == GiForm.LibvirtAcpi ? "acpi" : "qemu-commandline")));

    internal IEnumerable<GraceGpuEntry> GraceGpus => Element.Elements(Ns + "grace-gpu")
        .Select(e => Source(e) is { } s ? new GraceGpuEntry(s, Nodes(e, "nodes"), Nodes(e, "host-nodes"),
            (string?)e.Attribute("form") == "acpi" ? GiForm.LibvirtAcpi : GiForm.QemuCommandline) : null)
        .OfType<GraceGpuEntry>();

    internal void AddedCell(int id, PciAddress? gpu) =>
        Add(new XElement(Ns + "added-cell", new XAttribute("id", Num(id)), new XAttribute("gpu", gpu?.ToString() ?? "")));

    internal IEnumerable<AddedCellEntry> AddedCells => Element.Elements(Ns + "added-cell")
        .Select(e => Int(e, "id") is { } id ? new AddedCellEntry(id, Source(e, "gpu")) : null).OfType<AddedCellEntry>();

    internal void PlainCell(int id) => Add(new XElement(Ns + "plain-cell", new XAttribute("id", Num(id))));

    internal IEnumerable<int> PlainCells => Element.Elements(Ns + "plain-cell").Select(e => Int(e, "id")).OfType<int>();

    internal void AddedAcpi(PciAddress source) => Add(new XElement(Ns + "added-acpi", new XAttribute("source", source.ToString())));

    internal IEnumerable<PciAddress> AddedAcpis => Element.Elements(Ns + "added-acpi").Select(e => Source(e)).OfType<PciAddress>();

    internal void AddedAlias(PciAddress source, string name) =>
        Add(new XElement(Ns + "added-alias", new XAttribute("source", source.ToString()), new XAttribute("name", name)));

    internal IEnumerable<AddedAliasEntry> AddedAliases => Element.Elements(Ns + "added-alias")
        .Select(e => Source(e) is { } s && (string?)e.Attribute("name") is { } n ? new AddedAliasEntry(s, n) : null).OfType<AddedAliasEntry>();

    internal void AddedDriverModel(PciAddress source, bool createdDriver) =>
        Add(new XElement(Ns + "added-driver-model", new XAttribute("source", source.ToString()), new XAttribute("created", createdDriver ? "yes" : "no")));

    internal IEnumerable<AddedDriverModelEntry> AddedDriverModels => Element.Elements(Ns + "added-driver-model")
        .Select(e => Source(e) is { } s ? new AddedDriverModelEntry(s, (string?)e.Attribute("created") == "yes") : null).OfType<AddedDriverModelEntry>();

    internal void GraceExpander(int index, int node, string? smmu) =>
        Add(new XElement(Ns + "grace-expander", new XAttribute("index", Num(index)), new XAttribute("node", Num(node)), new XAttribute("smmu", smmu ?? "")));

    internal IEnumerable<GraceExpanderEntry> GraceExpanders => Element.Elements(Ns + "grace-expander")
        .Select(e => Int(e, "index") is { } i && Int(e, "node") is { } n ? new GraceExpanderEntry(i, n, (string?)e.Attribute("smmu") is { Length: > 0 } s ? s : null) : null)
        .OfType<GraceExpanderEntry>();

    internal void GraceRootPort(int index, PciAddress source, int expander) =>
        Add(new XElement(Ns + "grace-root-port", new XAttribute("index", Num(index)), new XAttribute("source", source.ToString()), new XAttribute("expander", Num(expander))));

    internal IEnumerable<GraceRootPortEntry> GraceRootPorts => Element.Elements(Ns + "grace-root-port")
        .Select(e => Int(e, "index") is { } i && Source(e) is { } s && Int(e, "expander") is { } x ? new GraceRootPortEntry(i, s, x) : null)
        .OfType<GraceRootPortEntry>();

    internal void AddedIommu(int pciBus) => Add(new XElement(Ns + "added-iommu", new XAttribute("pci-bus", Num(pciBus))));

    internal IEnumerable<int> AddedIommus => Element.Elements(Ns + "added-iommu").Select(e => Int(e, "pci-bus")).OfType<int>();

    internal void AddedIommufd(PciAddress source, bool createdDriver) =>
        Add(new XElement(Ns + "added-iommufd", new XAttribute("source", source.ToString()), new XAttribute("created", createdDriver ? "yes" : "no")));

    internal IEnumerable<AddedIommufdEntry> AddedIommufds => Element.Elements(Ns + "added-iommufd")
        .Select(e => Source(e) is { } s ? new AddedIommufdEntry(s, (string?)e.Attribute("created") == "yes") : null).OfType<AddedIommufdEntry>();

    /// <summary>Records each added &lt;qemu:arg&gt; value exactly, and where the run starts among the commandline's args.</summary>
    internal void AddedQemuArgs(int position, IReadOnlyList<string> values) =>
        Add(new XElement(Ns + "added-qemu-args", new XAttribute("position", Num(position)),
            values.Select(v => new XElement(Ns + "arg", new XAttribute("value", v)))));

    internal IEnumerable<AddedQemuArgsEntry> AddedQemuArgRuns => Element.Elements(Ns + "added-qemu-args").Select(e =>
    {
        var values = e.Elements(Ns + "arg").Select(a => (string?)a.Attribute("value") ?? "").ToList();
        if (values.Count > 0) return new AddedQemuArgsEntry(Int(e, "position"), values, values.Count);
        return (string?)e.Attribute("first") is { } first && Int(e, "count") is { } count ? new AddedQemuArgsEntry(null, [first], count) : null;
    }).OfType<AddedQemuArgsEntry>();

    internal void Created(RecordedElement what) => Add(new XElement(Ns + "created", new XAttribute("element", CreatedName(what))));

    internal bool WasCreated(RecordedElement what) => Element.Elements(Ns + "created").Any(e => (string?)e.Attribute("element") == CreatedName(what));

    private static string CreatedName(RecordedElement what) => what switch
    {
        RecordedElement.Cpu => "cpu",
        RecordedElement.Numa => "numa",
        RecordedElement.QemuCommandline => "qemu:commandline",
        _ => "xmlns:qemu",
    };

    private static string Num(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int? Int(XElement e, string name) =>
        int.TryParse((string?)e.Attribute(name), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    private static PciAddress? Source(XElement e, string name = "source") =>
        PciAddress.TryParse((string?)e.Attribute(name), out var a, out _) ? a : null;

    private static IReadOnlyList<int> Nodes(XElement e, string name) => Nodeset.TryParse((string?)e.Attribute(name), out var nodes, out _) ? nodes : [];

    private void Add(XElement entry) => XmlLayout.AppendChild(Element, entry);
}
