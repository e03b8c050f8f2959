using System.Xml.Linq;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Domain;

/// <summary>
/// The guest PCI layout a Grace domain asks for, read from its XML in the forms libvirt 12 accepts: which PCI
/// controllers are expander buses (pxb-pcie, with their NUMA cell) and which hang under which, the expander each
/// hostdev ends up under, each &lt;iommu model='smmuv3'&gt; with its pciBus and options, and whether each hostdev goes
/// to QEMU through iommufd (per hostdev &lt;driver iommufd&gt;, else the domain's &lt;iommufd enabled&gt;). Numbers are
/// read like libvirt reads them: decimal or 0x-hex. Pure: the preflight judges it against the host, the transform
/// can build on it.
/// </summary>
public sealed class GuestPciLayout
{
    /// <summary>Deeper than any bridge chain libvirt builds; a cycle in a hand-written XML ends here.</summary>
    private const int MaxBusDepth = 64;

    private readonly Dictionary<int, GuestPciBus> _buses;

    private GuestPciLayout(Dictionary<int, GuestPciBus> buses, IReadOnlyList<GuestSmmuV3> smmus, bool domainIommufd)
    {
        _buses = buses;
        Smmus = smmus;
        DomainIommufd = domainIommufd;
    }

    /// <summary>Every PCI controller with a readable index, by index.</summary>
    public IReadOnlyDictionary<int, GuestPciBus> Buses => _buses;

    public IEnumerable<GuestPciBus> Expanders => _buses.Values.Where(b => b.IsExpander).OrderBy(b => b.Index);

    public IReadOnlyList<GuestSmmuV3> Smmus { get; }

    /// <summary>&lt;iommufd enabled='yes'/&gt;, a child of &lt;domain&gt; (libvirt 12.2).</summary>
    public bool DomainIommufd { get; }

    public static GuestPciLayout Read(DomainDefinition d)
    {
        var buses = new Dictionary<int, GuestPciBus>();
        foreach (var c in d.Devices?.Elements("controller").Where(c => (string?)c.Attribute("type") == "pci") ?? [])
        {
            if (Number(c.Attribute("index")) is not { } index) continue;
            int? parent = null;
            if (c.Element("address") is { } a && (string?)a.Attribute("type") == "pci")
            {
                parent = PciAddressXml.TryRead(a, out var p, out _) ? p.Bus : null;
            }
            int? node = int.TryParse(c.Element("target")?.Element("node")?.Value.Trim(), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
            buses.TryAdd(index, new GuestPciBus(index, (string?)c.Attribute("model"), parent, node));
        }
        var smmus = new List<GuestSmmuV3>();
        foreach (var i in d.Devices?.Elements("iommu").Where(i => (string?)i.Attribute("model") == "smmuv3") ?? [])
        {
            var driver = i.Element("driver");
            smmus.Add(new GuestSmmuV3(i, Number(driver?.Attribute("pciBus")), (string?)driver?.Attribute("accel") == "on",
                (string?)driver?.Attribute("ats"), (string?)driver?.Attribute("ril"), Number(driver?.Attribute("ssidsize")),
                Number(driver?.Attribute("oas")), (string?)driver?.Attribute("cmdqv")));
        }
        var iommufd = (string?)d.Root.Element("iommufd")?.Attribute("enabled") == "yes";
        return new GuestPciLayout(buses, smmus, iommufd);
    }

    /// <summary>
    /// Whether QEMU gets this hostdev through iommufd: its own &lt;driver iommufd='yes|no'/&gt; decides, else the
    /// domain-wide &lt;iommufd enabled='yes'/&gt;.
    /// </summary>
    public bool UsesIommufd(PciHostdev hostdev) => (string?)hostdev.DriverElement?.Attribute("iommufd") switch
    {
        "yes" => true,
        "no" => false,
        _ => DomainIommufd,
    };

    /// <summary>
    /// The expander bus a device ends up under: from its guest address's bus up through root ports, switches and
    /// bridges to the first expander; null when it has no guest address (libvirt places it) or sits under pcie.0.
    /// </summary>
    public GuestPciBus? ExpanderOf(GuestPciAddress? address)
    {
        if (address is not { } a) return null;
        int? bus = a.Bus;
        for (var depth = 0; bus is { } b && depth < MaxBusDepth; depth++)
        {
            if (!_buses.TryGetValue(b, out var controller) || b == 0) return null;
            if (controller.IsExpander) return controller;
            bus = controller.ParentBus;
        }
        return null;
    }

    /// <summary>The smmuv3 plugged onto an expander (pciBus = its index), or null.</summary>
    public GuestSmmuV3? SmmuOn(GuestPciBus expander) => Smmus.FirstOrDefault(s => s.PciBus == expander.Index);

    private static int? Number(XAttribute? a) => a is not null && PciAddress.TryParseXmlNumber(a.Value.Trim(), out var v) ? v : null;
}
