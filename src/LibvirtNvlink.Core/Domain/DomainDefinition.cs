using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Domain;

/// <summary>A PCI hostdev of the domain, read from the live tree (the element stays the source of truth).</summary>
public sealed record PciHostdev(XElement Element, PciAddress Source, GuestPciAddress? GuestAddress, bool IsVfio, bool FromInterface)
{
    public string? Managed => Element.Attribute("managed")?.Value;

    public XElement? DriverElement => Element.Element("driver");
}

/// <summary>A &lt;controller type='pci'&gt;.</summary>
public sealed record PciController(XElement Element, int Index, string? Model, string? ModelName, int? TargetIndex)
{
    /// <summary>libvirt's virDomainControllerIsPSeriesPHB.</summary>
    public bool IsSpaprPhb => Model == "pci-root" && ModelName == "spapr-pci-host-bridge";
}

/// <summary>
/// Typed read access over a live domain XML tree, in the spirit of virt-manager's XMLBuilder: it reads what it
/// needs from the tree and never regenerates it, so XML it does not model survives every edit.
/// </summary>
public sealed class DomainDefinition
{
    public const ulong UnlimitedKiB = 9007199254740991;

    private DomainDefinition(XDocument document)
    {
        Document = document;
        Root = document.Root!;
    }

    public XDocument Document { get; }

    public XElement Root { get; }

    /// <exception cref="DomainXmlException">Not well-formed, has a DTD, or is not a &lt;domain&gt;.</exception>
    public static DomainDefinition Parse(string xml, string what = "input")
    {
        var doc = SafeXml.ParseKeepingSource(xml, what);
        if (doc.Root is null || doc.Root.Name != "domain")
        {
            throw new DomainXmlException($"{what}: the root element is <{doc.Root?.Name.LocalName}>, not <domain>; give a libvirt domain XML (virsh dumpxml NAME).");
        }
        return new DomainDefinition(doc);
    }

    public string Name => Root.Element("name")?.Value ?? "(unnamed)";

    public string? VirtType => Root.Attribute("type")?.Value;

    /// <summary>The guest arch: the one the XML names, else the one <see cref="GuestArch.Resolve"/> decided like libvirt.</summary>
    public string? Arch => WrittenArch ?? _assumedArch;

    /// <summary>The arch attribute of &lt;os&gt;&lt;type&gt; as written.</summary>
    public string? WrittenArch => Root.Element("os")?.Element("type")?.Attribute("arch")?.Value;

    private string? _assumedArch;

    /// <summary>Records the arch libvirt will give a domain whose XML names none; the XML itself is not changed.</summary>
    internal void AssumeArch(string arch) => _assumedArch = arch;

    public string? Machine => Root.Element("os")?.Element("type")?.Attribute("machine")?.Value;

    public bool IsPpc64 => Arch is "ppc64" or "ppc64le";

    public bool IsAarch64 => Arch is "aarch64";

    public bool IsPseries => IsPpc64 && (Machine is null || Machine.StartsWith("pseries", StringComparison.Ordinal));

    public XElement? Devices => Root.Element("devices");

    /// <summary>The &lt;emulator&gt;, or the one libvirt picks for the guest's architecture when the XML names none.</summary>
    public string Emulator => Devices?.Element("emulator")?.Value ?? (IsAarch64 ? "/usr/bin/qemu-system-aarch64" : "/usr/bin/qemu-system-ppc64");

    /// <summary>PCI hostdevs, including &lt;interface type='hostdev'&gt; (libvirt adds a hostdev for each).</summary>
    /// <exception cref="DomainXmlException">A source or guest address that libvirt would reject.</exception>
    public IReadOnlyList<PciHostdev> PciHostdevs()
    {
        var list = new List<PciHostdev>();
        if (Devices is null) return list;
        foreach (var e in Devices.Elements())
        {
            var isHostdev = e.Name == "hostdev" && (string?)e.Attribute("mode") is null or "subsystem" && (string?)e.Attribute("type") == "pci";
            var isInterface = e.Name == "interface" && (string?)e.Attribute("type") == "hostdev" &&
                              e.Element("source")?.Element("address")?.Attribute("type")?.Value is null or "pci";
            if (!isHostdev && !isInterface) continue;
            var src = e.Element("source")?.Element("address");
            if (src is null)
            {
                throw new DomainXmlException($"domain '{Name}': a PCI {e.Name.LocalName} has no <source><address …/></source>; libvirt rejects it.");
            }
            if (!PciAddressXml.TryRead(src, out var source, out var why))
            {
                throw new DomainXmlException($"domain '{Name}': PCI {e.Name.LocalName} source address is invalid: {why}. Fix the <source><address> element.");
            }
            var driverName = e.Element("driver")?.Attribute("name")?.Value;
            list.Add(new PciHostdev(e, source, GuestAddressOf(e), driverName is null or "vfio", isInterface));
        }
        return list;
    }

    /// <summary>The guest PCI address of a device element, or null when libvirt is left to choose.</summary>
    public GuestPciAddress? GuestAddressOf(XElement device)
    {
        var a = device.Element("address");
        if (a is null || (string?)a.Attribute("type") != "pci") return null;
        if (!PciAddressXml.TryRead(a, out var p, out var why))
        {
            throw new DomainXmlException($"domain '{Name}': the guest address of a <{device.Name.LocalName}> is invalid: {why}.");
        }
        return new GuestPciAddress(p.Domain, p.Bus, p.Slot, p.Function);
    }

    /// <summary>Every device element with a guest PCI address, for slot bookkeeping.</summary>
    public IEnumerable<(XElement Device, GuestPciAddress Address)> GuestPciAddresses()
    {
        if (Devices is null) yield break;
        foreach (var e in Devices.Elements())
        {
            if (GuestAddressOf(e) is { } a) yield return (e, a);
        }
    }

    public IReadOnlyList<PciController> PciControllers()
    {
        var list = new List<PciController>();
        if (Devices is null) return list;
        foreach (var c in Devices.Elements("controller").Where(c => (string?)c.Attribute("type") == "pci"))
        {
            if (!int.TryParse((string?)c.Attribute("index"), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                throw new DomainXmlException($"domain '{Name}': a PCI controller has no valid index='…'.");
            }
            int? target = int.TryParse(c.Element("target")?.Attribute("index")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
            var modelName = c.Element("model")?.Attribute("name")?.Value;
            var model = (string?)c.Attribute("model");
            // libvirt fills in the model name of pseries pci-root controllers at parse time.
            if (modelName is null && model == "pci-root" && IsPseries) modelName = "spapr-pci-host-bridge";
            list.Add(new PciController(c, index, model, modelName, target));
        }
        return list;
    }

    public ulong? HardLimitKiB => ReadKiB(Root.Element("memtune")?.Element("hard_limit"));

    public bool MemoryLocked => Root.Element("memoryBacking")?.Element("locked") is not null;

    public bool HasIommu => Devices?.Element("iommu") is not null;

    public int NvmeDiskCount => Devices?.Elements("disk").Count(d => (string?)d.Attribute("type") == "nvme") ?? 0;

    public int VdpaInterfaceCount => Devices?.Elements("interface").Count(i => (string?)i.Attribute("type") == "vdpa") ?? 0;

    public int MdevHostdevCount => Devices?.Elements("hostdev").Count(h => (string?)h.Attribute("type") == "mdev") ?? 0;

    /// <summary>&lt;memory&gt;: the total, including hot-pluggable memory devices.</summary>
    public ulong MemoryKiB => ReadKiB(Root.Element("memory")) ??
        throw new DomainXmlException($"domain '{Name}' has no valid <memory> element.");

    public ulong? MaxMemoryKiB => ReadKiB(Root.Element("maxMemory"));

    /// <summary>Memory of the guest NUMA cells (cpu/numa/cell/@memory), empty when the guest has no NUMA.</summary>
    public IReadOnlyList<ulong> NumaCellsKiB()
    {
        var cells = Root.Element("cpu")?.Element("numa")?.Elements("cell") ?? [];
        var list = new List<ulong>();
        foreach (var c in cells)
        {
            if (!MemoryUnits.TryToKiB((string?)c.Attribute("memory"), (string?)c.Attribute("unit"), out var kib, out var why))
            {
                throw new DomainXmlException($"domain '{Name}': NUMA cell memory is invalid: {why}.");
            }
            list.Add(kib);
        }
        return list;
    }

    /// <summary>Sizes of &lt;memory model='…'&gt; devices (DIMMs, NVDIMMs, virtio-mem).</summary>
    public IReadOnlyList<(string Model, ulong SizeKiB)> MemoryDevices()
    {
        var list = new List<(string, ulong)>();
        foreach (var m in Devices?.Elements("memory") ?? [])
        {
            var size = m.Element("target")?.Element("size");
            if (ReadKiB(size) is { } kib) list.Add(((string?)m.Attribute("model") ?? "dimm", kib));
        }
        return list;
    }

    private ulong? ReadKiB(XElement? e)
    {
        if (e is null) return null;
        if (!MemoryUnits.TryToKiB(e.Value, (string?)e.Attribute("unit"), out var kib, out var why))
        {
            throw new DomainXmlException($"domain '{Name}': <{e.Name.LocalName}> is invalid: {why}.");
        }
        return kib;
    }

    /// <summary>The document with every unedited byte as it was read (see <see cref="SourceXmlWriter"/>).</summary>
    public string ToXml() => SourceXmlWriter.Write(Document);
}
