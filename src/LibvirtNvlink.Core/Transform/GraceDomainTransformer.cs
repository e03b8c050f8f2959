using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

/// <summary>How the guest's generic-initiator nodes are written.</summary>
public enum GiForm
{
    /// <summary>libvirt 11.8+: memory-less &lt;cell&gt;s and &lt;acpi nodeset&gt; in the hostdev; libvirt writes the objects.</summary>
    LibvirtAcpi,

    /// <summary>Older libvirt: a user alias on the hostdev and -numa / -object acpi-generic-initiator in &lt;qemu:commandline&gt;.</summary>
    QemuCommandline,
}

/// <summary>
/// Completes an aarch64 virt domain for Grace GPU passthrough: for every assigned Grace GPU, one memory-less guest
/// NUMA node per host generic-initiator node (with the host's distances), tied to the GPU through ACPI generic
/// initiators; the variant driver model where libvirt knows it; a 64-bit MMIO window for the coherent-memory BAR.
/// Every edit is recorded in the same &lt;metadata&gt; record as the NVLink2 edits, so transform is idempotent and
/// --undo exact.
/// </summary>
/// <remarks>
/// libvirt before 11.8 gives a &lt;cell memory='0'&gt; a zero-sized memory-backend-ram, which QEMU refuses
/// ("property 'size' of memory-backend-ram doesn't take value '0'", checked with libvirt 9.0 and QEMU 7.2), so the
/// older form declares the memory-less nodes as plain "-numa node,nodeid=N" next to the initiator objects.
/// </remarks>
public static class GraceDomainTransformer
{
    public const string QemuNamespaceUri = "http://libvirt.org/schemas/domain/qemu/1.0";
    public static readonly XNamespace QemuNs = QemuNamespaceUri;

    /// <summary>libvirt 11.8 writes acpi-generic-initiator objects from &lt;acpi nodeset&gt;.</summary>
    public static readonly LibvirtVersion AcpiNodeset = new(11, 8, 0);

    /// <summary>libvirt 10.0 accepts &lt;driver model='…'/&gt; naming a VFIO variant driver.</summary>
    public static readonly LibvirtVersion DriverModel = new(10, 0, 0);

    /// <summary>The virt machine's default high PCIe MMIO window (VIRT_HIGH_PCIE_MMIO).</summary>
    public const ulong VirtDefaultHighMmio = 512UL << 30;

    private const int LocalDistance = 10;
    private const int RemoteDistance = 20;

    /// <summary>The Grace GPUs among the domain's PCI hostdevs, in document order.</summary>
    public static IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> AssignedGraceGpus(DomainDefinition d, HostTopology host) =>
        [.. d.PciHostdevs().Where(h => !h.FromInterface).Select(h => (h, host.GraceGpuAt(h.Source))).Where(p => p.Item2 is not null).Select(p => (p.h, p.Item2!))];

    public static GiForm FormFor(TargetLibvirt target) => target.Version >= AcpiNodeset ? GiForm.LibvirtAcpi : GiForm.QemuCommandline;

    /// <summary>The user alias the older form gives a GPU hostdev, derived from its host address.</summary>
    public static string AliasFor(PciAddress gpu) => string.Create(CultureInfo.InvariantCulture,
        $"ua-nvgrace-{gpu.Domain:x4}-{gpu.Bus:x2}-{gpu.Slot:x2}-{gpu.Function:x}");

    /// <summary>A window size the way QEMU's size properties take it: whole tebibytes as "2T", else gibibytes.</summary>
    public static string QemuSize(ulong bytes) =>
        bytes >= 1UL << 40 && bytes % (1UL << 40) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes >> 40}T")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30}G");

    /// <summary>Whether the domain passes QEMU a highmem-mmio-size, and its value in bytes when this can read it.</summary>
    public static (bool Passed, ulong? Bytes) HighmemMmioSize(DomainDefinition d)
    {
        foreach (var arg in QemuArgs(d))
        {
            foreach (var property in arg.Split(','))
            {
                if (property.StartsWith("highmem-mmio-size=", StringComparison.Ordinal)) return (true, ParseQemuSize(property["highmem-mmio-size=".Length..]));
            }
        }
        return (false, null);
    }

    /// <summary>QEMU's size syntax: a number with an optional binary suffix B, K, M, G, T, P or E.</summary>
    public static ulong? ParseQemuSize(string text)
    {
        if (text.Length == 0) return null;
        var shift = char.ToUpperInvariant(text[^1]) switch
        {
            'B' => 0,
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            'P' => 50,
            'E' => 60,
            _ => -1,
        };
        var digits = shift < 0 ? text : text[..^1];
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        var s = Math.Max(shift, 0);
        return s > 0 && n > ulong.MaxValue >> s ? null : n << s;
    }

    /// <summary>The values of the domain's &lt;qemu:commandline&gt; args, in order.</summary>
    public static IEnumerable<string> QemuArgs(DomainDefinition d) =>
        d.Root.Element(QemuNs + "commandline")?.Elements(QemuNs + "arg").Select(a => (string?)a.Attribute("value") ?? "") ?? [];

    public static ulong MmioWindowFor(IEnumerable<GraceGpu> gpus)
    {
        var sum = gpus.Aggregate(0UL, (s, g) => s + g.Mmio64Bytes);
        return sum == 0 ? 0 : System.Numerics.BitOperations.RoundUpToPowerOf2(sum);
    }

    public static TransformResult Transform(string xml, HostTopology host, TransformOptions options)
    {
        var d = DomainDefinition.Parse(xml);
        var assigned = AssignedGraceGpus(d, host);
        var messages = new List<string>();
        if (assigned.Count == 0) return new TransformResult(xml, false, messages, null);

        var gpuList = string.Join(", ", assigned.Select(a => a.Gpu.Address));
        if (!d.IsAarch64 || d.Machine is not { } machine || !machine.StartsWith("virt", StringComparison.Ordinal))
        {
            throw new TransformException(
                $"domain '{d.Name}': assigns Grace GPU {gpuList} but is arch='{d.Arch}' machine='{d.Machine}'. " +
                "Grace passthrough needs an aarch64 virt guest: <type arch='aarch64' machine='virt'>hvm</type>.");
        }
        var errors = new List<string>();
        foreach (var (_, gpu) in assigned.Where(a => a.Gpu.GiNodes.Count == 0))
        {
            errors.Add($"{gpu.Model} GPU {gpu.Address}: no generic-initiator NUMA nodes were found for it on this host, so the guest's " +
                       "nodes cannot mirror them. Run 'libvirt-nvlink topology' for the finding and its fix.");
        }
        var qemu = options.Qemu ?? TargetQemu.Unknown;
        if (!qemu.AtLeast(TargetQemu.GenericInitiator))
        {
            errors.Add($"QEMU {qemu} has no acpi-generic-initiator object (QEMU {TargetQemu.Show(TargetQemu.GenericInitiator)}), so Grace GPU {gpuList} " +
                       $"cannot be given its NUMA nodes. Install QEMU {TargetQemu.Show(TargetQemu.GenericInitiator)} or newer " +
                       $"(with libvirt {AcpiNodeset} or newer libvirt writes the objects itself).");
        }
        ThrowIfAny(d, errors);

        var form = FormFor(options.Target);
        if (!qemu.IsKnown)
        {
            messages.Add($"warning: the QEMU version is unknown; assuming QEMU {TargetQemu.Show(TargetQemu.GenericInitiator)} or newer " +
                         "(acpi-generic-initiator). Pass --qemu-version to check.");
        }
        var edit = new GraceEdit(d, host, messages, form);
        foreach (var (hostdev, gpu) in assigned) edit.AddGpu(hostdev, gpu, options.Target);
        edit.EnsureMmioWindow([.. assigned.Select(a => a.Gpu)], qemu);

        if (!edit.Changed)
        {
            messages.Add($"domain '{d.Name}': already complete for Grace GPU {gpuList}; nothing changed.");
            return new TransformResult(xml, false, messages, null);
        }
        return new TransformResult(d.ToXml(), true, messages, null);
    }

    /// <summary>Removes the Grace edits the record lists. Called by <see cref="Nv2DomainTransformer.Undo"/>.</summary>
    internal static void UndoRecorded(DomainDefinition d, TransformRecord record, List<string> messages)
    {
        var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
        XElement? HostdevOf(XElement entry) => hostdevs.FirstOrDefault(h => h.Source.ToString() == (string?)entry.Attribute("source"))?.Element;

        foreach (var e in record.Entries("added-acpi"))
        {
            if (HostdevOf(e)?.Element("acpi") is { } acpi) XmlLayout.Remove(acpi);
            messages.Add($"removed <acpi nodeset> of {(string?)e.Attribute("source")}");
        }
        foreach (var e in record.Entries("added-alias"))
        {
            if (HostdevOf(e)?.Element("alias") is { } alias && (string?)alias.Attribute("name") == (string?)e.Attribute("name")) XmlLayout.Remove(alias);
            messages.Add($"removed alias {(string?)e.Attribute("name")}");
        }
        foreach (var e in record.Entries("added-driver-model"))
        {
            if (HostdevOf(e)?.Element("driver") is { } driver)
            {
                if ((string?)e.Attribute("created") == "yes") XmlLayout.Remove(driver);
                else driver.Attribute("model")?.Remove();
            }
            messages.Add($"removed driver model of {(string?)e.Attribute("source")}");
        }

        var numa = d.Root.Element("cpu")?.Element("numa");
        var removedCells = record.Entries("added-cell").Select(e => (string?)e.Attribute("id")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (numa is not null && removedCells.Count > 0)
        {
            foreach (var cell in numa.Elements("cell").Where(c => removedCells.Contains((string?)c.Attribute("id") ?? "")).ToList()) XmlLayout.Remove(cell);
            var plain = record.Entries("plain-cell").Select(e => (string?)e.Attribute("id")).ToHashSet(StringComparer.Ordinal);
            foreach (var cell in numa.Elements("cell"))
            {
                // libvirt mirrors our siblings into the user's cells when it formats the XML; take those back too.
                var distances = cell.Element("distances");
                if (distances is null) continue;
                foreach (var s in distances.Elements("sibling").Where(s => removedCells.Contains((string?)s.Attribute("id") ?? "")).ToList()) XmlLayout.Remove(s);
                var onlySelf = distances.Elements("sibling").All(s => (string?)s.Attribute("id") == (string?)cell.Attribute("id"));
                if (plain.Contains((string?)cell.Attribute("id")) && onlySelf)
                {
                    XmlLayout.Remove(distances);
                    if (!cell.Elements().Any()) cell.RemoveNodes();
                }
            }
            messages.Add($"removed guest NUMA cell(s) {string.Join(",", removedCells.Order(StringComparer.Ordinal))}");
        }
        var cpu = d.Root.Element("cpu");
        if (record.Entries("created").Any(e => (string?)e.Attribute("element") == "numa") && numa is not null && !numa.Elements().Any())
        {
            XmlLayout.Remove(numa);
            messages.Add("removed <numa>");
        }
        if (record.Entries("created").Any(e => (string?)e.Attribute("element") == "cpu") && cpu is not null && !cpu.Elements().Any() && !cpu.Attributes().Any())
        {
            XmlLayout.Remove(cpu);
            messages.Add("removed <cpu>");
        }

        var commandline = d.Root.Element(QemuNs + "commandline");
        var runs = record.Entries("added-qemu-args").ToList();
        if (commandline is not null && runs.Count > 0)
        {
            var removed = 0;
            foreach (var run in runs)
            {
                var present = commandline.Elements(QemuNs + "arg").ToList();
                var start = present.FindIndex(a => (string?)a.Attribute("value") == (string?)run.Attribute("first"));
                if (start < 0 || !int.TryParse((string?)run.Attribute("count"), NumberStyles.None, CultureInfo.InvariantCulture, out var count)) continue;
                foreach (var arg in present.Skip(start).Take(count))
                {
                    XmlLayout.Remove(arg);
                    removed++;
                }
            }
            messages.Add($"removed {removed} <qemu:arg> element(s)");
            if (record.Entries("created").Any(e => (string?)e.Attribute("element") == "qemu:commandline") && !commandline.Elements().Any())
            {
                XmlLayout.Remove(commandline);
            }
        }
        if (record.Entries("created").Any(e => (string?)e.Attribute("element") == "xmlns:qemu") &&
            !d.Root.Descendants().Any(e => e.Name.Namespace == QemuNs))
        {
            d.Root.Attributes().Where(a => a.IsNamespaceDeclaration && a.Value == QemuNamespaceUri).Remove();
        }
    }

    private static void ThrowIfAny(DomainDefinition d, List<string> errors)
    {
        if (errors.Count == 0) return;
        throw new TransformException(errors.Count == 1 ? $"domain '{d.Name}': {errors[0]}" : $"domain '{d.Name}':\n  - {string.Join("\n  - ", errors)}");
    }

    /// <summary>The edits of one Grace transform run, each recorded as it is made.</summary>
    private sealed class GraceEdit(DomainDefinition d, HostTopology host, List<string> messages, GiForm form)
    {
        private TransformRecord? _record;
        private XElement? _numa;

        public bool Changed { get; private set; }

        private TransformRecord Record => _record ??= TransformRecord.FindOrCreate(d.Root);

        private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);

        public void AddGpu(PciHostdev hostdev, GraceGpu gpu, TargetLibvirt target)
        {
            var source = gpu.Address.ToString();
            AddDriverModel(hostdev, gpu, target);
            if (TransformRecord.Find(d.Root)?.Entries("grace-gpu").Any(e => (string?)e.Attribute("source") == source) == true)
            {
                return;
            }
            if (hostdev.Element.Element("acpi")?.Attribute("nodeset") is { } userNodeset)
            {
                var count = ParseNodeset(userNodeset.Value).Count;
                if (count != gpu.GiNodes.Count)
                {
                    throw new TransformException($"domain '{d.Name}': GPU {source} has <acpi nodeset='{userNodeset.Value}'/> ({count} node(s)) but the host " +
                                                 $"gives it {gpu.GiNodes.Count} generic-initiator nodes ({Nodeset(gpu.GiNodes)}). Remove the <acpi> element and run transform again.");
                }
                messages.Add($"GPU {source} already has <acpi nodeset='{userNodeset.Value}'/>; left as written.");
                return;
            }

            var numa = EnsureNuma();
            var cells = numa.Elements("cell").ToList();
            SeedFromRecord();
            var firstNew = cells.Count + _virtualCells.Count;
            var guestNodes = Enumerable.Range(firstNew, gpu.GiNodes.Count).ToList();
            var rows = DistanceRows(gpu, cells, guestNodes);

            if (form == GiForm.LibvirtAcpi)
            {
                foreach (var cell in cells.Where(c => c.Element("distances") is null))
                {
                    if (!Record.Entries("plain-cell").Any(e => (string?)e.Attribute("id") == (string?)cell.Attribute("id")))
                    {
                        Record.Note("plain-cell", ("id", (string?)cell.Attribute("id") ?? ""));
                    }
                }
                for (var i = 0; i < guestNodes.Count; i++)
                {
                    var cell = new XElement("cell",
                        new XAttribute("id", Num(guestNodes[i])), new XAttribute("memory", "0"), new XAttribute("unit", "KiB"),
                        new XElement("distances", rows[i].Select(r => new XElement("sibling", new XAttribute("id", Num(r.To)), new XAttribute("value", Num(r.Value))))));
                    XmlLayout.AppendChild(numa, cell);
                    Record.Note("added-cell", ("id", Num(guestNodes[i])), ("gpu", source));
                }
                var acpi = new XElement("acpi", new XAttribute("nodeset", Nodeset(guestNodes)));
                var anchor = hostdev.Element.Element("source");
                if (anchor is null) XmlLayout.AppendChild(hostdev.Element, acpi);
                else XmlLayout.InsertAfter(anchor, acpi);
                Record.Note("added-acpi", ("source", source));
            }
            else
            {
                var alias = EnsureAlias(hostdev, gpu);
                var args = new List<string>();
                foreach (var n in guestNodes) args.AddRange(["-numa", $"node,nodeid={Num(n)}"]);
                for (var i = 0; i < guestNodes.Count; i++)
                {
                    // One direction per pair: QEMU mirrors it, and the list stays half as long.
                    foreach (var (to, value) in rows[i].Where(r => r.To < guestNodes[i]))
                    {
                        args.AddRange(["-numa", $"dist,src={Num(guestNodes[i])},dst={Num(to)},val={Num(value)}"]);
                    }
                }
                // QEMU wants a distance for every pair once any is given; libvirt writes its own cells' pairs only
                // when one of them has <distances>.
                if (cells.Count > 1 && cells.All(c => c.Element("distances") is null) && !Record.Entries("grace-gpu").Any())
                {
                    for (var a = 0; a < cells.Count; a++)
                    {
                        for (var b = a + 1; b < cells.Count; b++) args.AddRange(["-numa", $"dist,src={Num(a)},dst={Num(b)},val={Num(RemoteDistance)}"]);
                    }
                }
                foreach (var n in guestNodes)
                {
                    args.AddRange(["-object", $"acpi-generic-initiator,id=lvn-gi{Num(n)},pci-dev={alias},node={Num(n)}"]);
                }
                AddQemuArgs(args);
                _virtualCells.AddRange(guestNodes);
            }
            Record.Note("grace-gpu", ("source", source), ("nodes", Nodeset(guestNodes)), ("host-nodes", Nodeset(gpu.GiNodes)),
                ("form", form == GiForm.LibvirtAcpi ? "acpi" : "qemu-commandline"));
            messages.Add($"gave {gpu.Model} GPU {source} guest NUMA node(s) {Nodeset(guestNodes)} (host generic-initiator node(s) {Nodeset(gpu.GiNodes)})" +
                         (form == GiForm.LibvirtAcpi ? " with <acpi nodeset>" : " through <qemu:commandline> (libvirt before 11.8)"));
            Changed = true;
        }

        /// <summary>Guest nodes the older form declared outside libvirt's cells (numbered after them).</summary>
        private readonly List<int> _virtualCells = [];

        /// <summary>Guest node → host node of every GPU given nodes so far, this run or an earlier one.</summary>
        private readonly Dictionary<int, int> _previousGi = [];

        private bool _seeded;

        /// <summary>Picks up the nodes an earlier run gave, so a GPU added later gets the next ids and right distances.</summary>
        private void SeedFromRecord()
        {
            if (_seeded) return;
            _seeded = true;
            foreach (var e in TransformRecord.Find(d.Root)?.Entries("grace-gpu") ?? [])
            {
                var guest = ParseNodeset((string?)e.Attribute("nodes") ?? "");
                var hostNodes = ParseNodeset((string?)e.Attribute("host-nodes") ?? "");
                foreach (var (g, h) in guest.Zip(hostNodes)) _previousGi[g] = h;
                if ((string?)e.Attribute("form") == "qemu-commandline") _virtualCells.AddRange(guest);
            }
        }

        /// <summary>
        /// For each new guest node: its distance to every guest node (self included), mirroring the host's SLIT.
        /// Existing guest cells stand for the host node numatune pins them to, else for the GPU's CPU node.
        /// </summary>
        private List<List<(int To, int Value)>> DistanceRows(GraceGpu gpu, List<XElement> cells, List<int> guestNodes)
        {
            var hostOf = new Dictionary<int, int>();
            var cpuNode = LocalCpuNode(gpu);
            for (var c = 0; c < cells.Count; c++) hostOf[c] = PinnedHostNode(c) ?? cpuNode;
            foreach (var (guest, hostNode) in _previousGi) hostOf[guest] = hostNode;
            for (var i = 0; i < guestNodes.Count; i++) hostOf[guestNodes[i]] = gpu.GiNodes[i];
            var all = hostOf.Keys.Order().ToList();
            var rows = new List<List<(int, int)>>();
            for (var i = 0; i < guestNodes.Count; i++)
            {
                var row = new List<(int, int)>();
                foreach (var other in all)
                {
                    if (other == guestNodes[i])
                    {
                        row.Add((other, LocalDistance));
                        continue;
                    }
                    var value = hostOf.TryGetValue(other, out var h) && host.NumaNode(gpu.GiNodes[i])?.Distances.TryGetValue(h, out var hd) == true ? hd : RemoteDistance;
                    // libvirt rejects 10 between distinct cells; hosts do not report it, but guard the guest.
                    row.Add((other, value <= LocalDistance ? RemoteDistance : value));
                }
                rows.Add(row);
            }
            foreach (var (g, h) in guestNodes.Zip(gpu.GiNodes)) _previousGi[g] = h;
            return rows;
        }

        private int LocalCpuNode(GraceGpu gpu)
        {
            if (gpu.NumaNode is { } n && host.NumaNode(n) is { HasCpus: true }) return n;
            var first = gpu.GiNodes[0];
            var cpuNodes = host.NumaNodes.Where(x => x.HasCpus).ToList();
            return cpuNodes.Count == 0 ? gpu.NumaNode ?? 0
                : cpuNodes.OrderBy(x => host.NumaNode(first)?.Distances.GetValueOrDefault(x.Id, int.MaxValue) ?? int.MaxValue).First().Id;
        }

        private int? PinnedHostNode(int cell)
        {
            var memnode = d.Root.Element("numatune")?.Elements("memnode").FirstOrDefault(m => (string?)m.Attribute("cellid") == Num(cell));
            var set = (string?)memnode?.Attribute("nodeset");
            return set is null ? null : ParseNodeset(set).FirstOrDefault();
        }

        private XElement EnsureNuma()
        {
            if (_numa is not null) return _numa;
            var cpu = d.Root.Element("cpu");
            if (cpu is null)
            {
                cpu = new XElement("cpu");
                var anchor = d.Root.Elements().LastOrDefault(e => e.Name.LocalName is "features" or "os" or "vcpus" or "vcpu" or "iothreads" or "cputune" or "numatune" or "resource");
                if (anchor is null) XmlLayout.AppendChild(d.Root, cpu);
                else XmlLayout.InsertAfter(anchor, cpu);
                Record.Note("created", ("element", "cpu"));
            }
            var numa = cpu.Element("numa");
            if (numa is null)
            {
                numa = new XElement("numa");
                XmlLayout.AppendChild(cpu, numa);
                Record.Note("created", ("element", "numa"));
            }
            if (!numa.Elements("cell").Any())
            {
                // QEMU needs every vCPU and all RAM in some node once nodes exist: one cell holds them, as before.
                var vcpus = int.TryParse(d.Root.Element("vcpu")?.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : 1;
                var cell = new XElement("cell",
                    new XAttribute("id", "0"),
                    new XAttribute("cpus", vcpus == 1 ? "0" : $"0-{Num(vcpus - 1)}"),
                    new XAttribute("memory", d.MemoryKiB.ToString(CultureInfo.InvariantCulture)),
                    new XAttribute("unit", "KiB"));
                XmlLayout.AppendChild(numa, cell);
                Record.Note("added-cell", ("id", "0"), ("gpu", ""));
                messages.Add($"added guest NUMA cell 0 with all {Num(vcpus)} vCPU(s) and the guest's memory: QEMU needs them in a node once the GPU's nodes exist");
            }
            return _numa = numa;
        }

        private string EnsureAlias(PciHostdev hostdev, GraceGpu gpu)
        {
            if (hostdev.Element.Element("alias") is { } existing && (string?)existing.Attribute("name") is { } name && name.StartsWith("ua-", StringComparison.Ordinal))
            {
                return name;
            }
            if (hostdev.Element.Element("alias") is not null)
            {
                throw new TransformException($"domain '{d.Name}': GPU {gpu.Address} has an <alias> without the 'ua-' prefix libvirt requires of user aliases; " +
                                             "remove it or rename it to ua-…, then run transform again.");
            }
            var alias = AliasFor(gpu.Address);
            var element = new XElement("alias", new XAttribute("name", alias));
            var anchor = hostdev.Element.Element("source");
            if (anchor is null) XmlLayout.AppendChild(hostdev.Element, element);
            else XmlLayout.InsertAfter(anchor, element);
            Record.Note("added-alias", ("source", gpu.Address.ToString()), ("name", alias));
            return alias;
        }

        private void AddDriverModel(PciHostdev hostdev, GraceGpu gpu, TargetLibvirt target)
        {
            var source = gpu.Address.ToString();
            var driver = hostdev.Element.Element("driver");
            if (driver?.Attribute("model") is { } model)
            {
                if (model.Value != GraceGpu.VariantDriver)
                {
                    messages.Add($"warning: GPU {source} asks for driver model '{model.Value}'; the coherent memory needs {GraceGpu.VariantDriver}.");
                }
                return;
            }
            if (target.Version < DriverModel)
            {
                if (hostdev.Managed != "no")
                {
                    messages.Add($"warning: libvirt {target.Version} ({target.Source}) binds managed hostdevs to plain vfio-pci, which hides GPU {source}'s " +
                                 $"coherent memory. Use managed='no' (the hook binds {GraceGpu.VariantDriver} when bind-managed-no is set) or libvirt {DriverModel} or newer.");
                }
                return;
            }
            if (driver is null)
            {
                driver = new XElement("driver", new XAttribute("model", GraceGpu.VariantDriver));
                if (hostdev.Element.Elements().FirstOrDefault() is { } first) XmlLayout.InsertBefore(first, driver);
                else XmlLayout.AppendChild(hostdev.Element, driver);
                Record.Note("added-driver-model", ("source", source), ("created", "yes"));
            }
            else
            {
                driver.SetAttributeValue("model", GraceGpu.VariantDriver);
                Record.Note("added-driver-model", ("source", source), ("created", "no"));
            }
            messages.Add($"set <driver model='{GraceGpu.VariantDriver}'/> on GPU {source}");
            Changed = true;
        }

        public void EnsureMmioWindow(IReadOnlyList<GraceGpu> gpus, TargetQemu qemu)
        {
            var window = MmioWindowFor(gpus);
            if (window <= VirtDefaultHighMmio) return;
            var size = QemuSize(window);
            var arg = "highmem-mmio-size=" + size;
            if (HighmemMmioSize(d).Passed)
            {
                return;
            }
            if (!qemu.AtLeast(TargetQemu.HighmemMmioSize))
            {
                messages.Add($"warning: the GPUs' 64-bit BARs need a {size} PCI window but the virt machine of QEMU {qemu} has a fixed 512G one and no " +
                             $"highmem-mmio-size (QEMU {TargetQemu.Show(TargetQemu.HighmemMmioSize)}): the guest will not map every BAR. Install QEMU " +
                             $"{TargetQemu.Show(TargetQemu.HighmemMmioSize)} or newer and run transform again.");
                return;
            }
            if (!qemu.IsKnown)
            {
                messages.Add($"warning: writing -machine {arg}, which needs QEMU {TargetQemu.Show(TargetQemu.HighmemMmioSize)} or newer.");
            }
            AddQemuArgs(["-machine", arg]);
            messages.Add($"set the virt machine's 64-bit PCI window to {size} (highmem-mmio-size) for {Bytes(gpus.Aggregate(0UL, (s, g) => s + g.Mmio64Bytes))} of GPU BARs");
            Changed = true;
        }

        private static string Bytes(ulong b) => (b >> 30).ToString(CultureInfo.InvariantCulture) + " GiB";

        private void AddQemuArgs(IEnumerable<string> values)
        {
            if (!d.Root.Attributes().Any(a => a.IsNamespaceDeclaration && a.Value == QemuNamespaceUri))
            {
                d.Root.Add(new XAttribute(XNamespace.Xmlns + "qemu", QemuNamespaceUri));
                Record.Note("created", ("element", "xmlns:qemu"));
            }
            var commandline = d.Root.Element(QemuNs + "commandline");
            if (commandline is null)
            {
                commandline = new XElement(QemuNs + "commandline");
                XmlLayout.AppendChild(d.Root, commandline);
                Record.Note("created", ("element", "qemu:commandline"));
            }
            var list = values.ToList();
            foreach (var v in list) XmlLayout.AppendChild(commandline, new XElement(QemuNs + "arg", new XAttribute("value", v)));
            // libvirt keeps <qemu:arg> order, so the first value and the count find the run again for --undo.
            Record.Note("added-qemu-args", ("first", list[0]), ("count", list.Count.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>"2-4,7" → [2, 3, 4, 7]; libvirt's nodeset syntax without negation.</summary>
    public static IReadOnlyList<int> ParseNodeset(string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0 && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var one)) list.Add(one);
            else if (dash > 0 && int.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var a) &&
                     int.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b >= a)
            {
                list.AddRange(Enumerable.Range(a, b - a + 1));
            }
        }
        return list;
    }

    /// <summary>[1, 2, 3, 5] → "1-3,5".</summary>
    public static string Nodeset(IEnumerable<int> nodes)
    {
        var sorted = nodes.Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(i == j ? sorted[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{sorted[i]}-{sorted[j]}"));
            i = j + 1;
        }
        return string.Join(",", parts);
    }
}
