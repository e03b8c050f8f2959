using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

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
    private const int LocalDistance = 10;
    private const int RemoteDistance = 20;

    public static GiForm FormFor(TargetLibvirt target) => target.Version >= VersionThresholds.LibvirtAcpiNodeset ? GiForm.LibvirtAcpi : GiForm.QemuCommandline;

    public static TransformResult Transform(string xml, HostTopology host, TransformOptions options)
    {
        var d = DomainDefinition.Parse(xml);
        var assigned = GraceAssignment.AssignedGraceGpus(d, host);
        var messages = new List<string>();
        if (assigned.Count == 0) return new TransformResult(xml, false, messages, null);

        var gpuList = string.Join(", ", assigned.Select(a => a.Gpu.Address));
        if (GuestArch.Resolve(d, GuestArch.HostArch(host)) is { } assumed) messages.Add(assumed);
        if (!d.IsAarch64 || d.Machine is not { } machine || !machine.StartsWith("virt", StringComparison.Ordinal))
        {
            throw new TransformException(
                $"domain '{d.Name}': assigns Grace GPU {gpuList} but is arch='{d.Arch ?? "(none)"}' machine='{d.Machine ?? "(none)"}' in <os><type>. " +
                "Grace passthrough needs an aarch64 virt guest: <type arch='aarch64' machine='virt'>hvm</type>.");
        }
        var errors = new List<string>();
        foreach (var (_, gpu) in assigned.Where(a => a.Gpu.GiNodes.Count == 0))
        {
            errors.Add($"{gpu.Model} GPU {gpu.Address}: no generic-initiator NUMA nodes were found for it on this host, so the guest's " +
                       "nodes cannot mirror them. Run 'libvirt-nvlink topology' for the finding and its fix.");
        }
        var qemu = options.Qemu ?? TargetQemu.Unknown;
        if (!qemu.AtLeast(VersionThresholds.QemuGenericInitiator))
        {
            errors.Add($"QEMU {qemu} has no acpi-generic-initiator object (QEMU {TargetQemu.Show(VersionThresholds.QemuGenericInitiator)}), so Grace GPU {gpuList} " +
                       $"cannot be given its NUMA nodes. Install QEMU {TargetQemu.Show(VersionThresholds.QemuGenericInitiator)} or newer " +
                       $"(with libvirt {VersionThresholds.LibvirtAcpiNodeset} or newer libvirt writes the objects itself).");
        }
        ThrowIfAny(d, errors);

        var form = FormFor(options.Target);
        if (!qemu.IsKnown)
        {
            messages.Add($"warning: the QEMU version is unknown; assuming QEMU {TargetQemu.Show(VersionThresholds.QemuGenericInitiator)} or newer " +
                         "(acpi-generic-initiator). Pass --qemu-version to check.");
        }
        var edit = new GraceEdit(d, host, messages, form);
        // The GPUs an earlier run put on a root port keep it; only the others are laid out.
        var placed = TransformRecord.Find(d.Root)?.GraceRootPorts.Select(r => r.Source).ToHashSet() ?? [];
        var unplaced = assigned.Where(a => !placed.Contains(a.Gpu.Address)).ToList();
        var plan = PlanLayout(d, unplaced, options, qemu, host);
        messages.AddRange(plan.Notes);
        foreach (var (hostdev, gpu) in assigned) edit.AddGpu(hostdev, gpu, options.Target);
        if (plan.Expander) edit.PlaceOnExpanders(unplaced, plan);
        edit.EnsureMmioWindow([.. assigned.Select(a => a.Gpu)], qemu);
        // Last, on the XML as transformed: an added <iommu> or iommufd changes libvirt's figure and what is pinned.
        var memtuneWritten = GraceMemtune.Apply(d, host, options, messages);

        if (!edit.Changed && !memtuneWritten)
        {
            messages.Add($"domain '{d.Name}': already complete for Grace GPU {gpuList}; nothing changed.");
            return new TransformResult(xml, false, messages, null);
        }
        return new TransformResult(d.ToXml(), true, messages, null);
    }

    /// <summary>
    /// The layout for the GPUs not yet placed by an earlier run. A GPU the user (or libvirt, in dumpxml output) already
    /// gave a guest address stays where it is: --grace-layout expander then refuses, naming the address to delete,
    /// and auto keeps the flat layout, saying why.
    /// </summary>
    private static GraceLayoutPlan PlanLayout(DomainDefinition d, IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> unplaced, TransformOptions options, TargetQemu qemu, HostTopology host)
    {
        if (unplaced.Count == 0 || options.GraceLayout == GracePciLayout.Flat) return new(false, false, false, null, []);
        var addressed = unplaced.Where(a => a.Hostdev.GuestAddress is not null).ToList();
        if (addressed.Count > 0)
        {
            var list = string.Join(", ", addressed.Select(a => $"GPU {a.Gpu.Address} (guest {a.Hostdev.GuestAddress})"));
            if (options.GraceLayout == GracePciLayout.Expander)
            {
                throw new TransformException($"domain '{d.Name}': {list} already has a guest PCI address, so it cannot be put on a pcie-expander-bus. " +
                                             "Delete the <address type='pci'> element of its <hostdev> and run transform again, or keep it where it is with --grace-layout flat.");
            }
            // Recorded GPUs from a flat run, defined since: nothing to say, the domain stays as it was.
            var recorded = TransformRecord.Find(d.Root)?.GraceGpus.Select(e => e.Source).ToHashSet() ?? [];
            return new(false, false, false, null, addressed.All(a => recorded.Contains(a.Gpu.Address)) ? []
                : [$"kept the flat Grace layout: {list} already has a guest PCI address. Delete the <address type='pci'> element of its <hostdev> for the expander layout."]);
        }
        return GraceLayoutPlan.Decide(options.GraceLayout, d, unplaced, options.Target, qemu, host.GraceSupport);
    }

    /// <summary>Removes the Grace edits the record lists. Called by <see cref="DomainTransformer.Undo"/>.</summary>
    internal static void UndoRecorded(DomainDefinition d, TransformRecord record, List<string> messages)
    {
        var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
        XElement? HostdevOf(PciAddress source) => hostdevs.FirstOrDefault(h => h.Source == source)?.Element;

        foreach (var source in record.AddedAcpis)
        {
            if (HostdevOf(source)?.Element("acpi") is { } acpi) XmlLayout.Remove(acpi);
            messages.Add($"removed <acpi nodeset> of {source}");
        }
        foreach (var e in record.AddedAliases)
        {
            if (HostdevOf(e.Source)?.Element("alias") is { } alias && (string?)alias.Attribute("name") == e.Name) XmlLayout.Remove(alias);
            messages.Add($"removed alias {e.Name}");
        }
        foreach (var e in record.AddedIommufds)
        {
            if (HostdevOf(e.Source)?.Element("driver") is { } driver)
            {
                if (e.CreatedDriver) XmlLayout.Remove(driver);
                else driver.Attribute("iommufd")?.Remove();
            }
            messages.Add($"removed iommufd from {e.Source}");
        }
        var smmus = GuestPciLayout.Read(d).Smmus;
        foreach (var bus in record.AddedIommus)
        {
            foreach (var smmu in smmus.Where(s => s.PciBus == bus)) XmlLayout.Remove(smmu.Element);
            messages.Add($"removed the SMMUv3 on controller {bus}");
        }
        foreach (var index in record.GraceRootPorts.Select(r => r.Index).Concat(record.GraceExpanders.Select(x => x.Index)))
        {
            foreach (var c in d.PciControllers().Where(c => c.Index == index)) XmlLayout.Remove(c.Element);
            messages.Add($"removed controller index {index}");
        }
        foreach (var e in record.AddedDriverModels)
        {
            if (HostdevOf(e.Source)?.Element("driver") is { } driver)
            {
                if (e.CreatedDriver) XmlLayout.Remove(driver);
                else driver.Attribute("model")?.Remove();
            }
            messages.Add($"removed driver model of {e.Source}");
        }

        var numa = d.Root.Element("cpu")?.Element("numa");
        var removedCells = record.AddedCells.Select(e => Num(e.Id)).ToHashSet(StringComparer.Ordinal);
        if (numa is not null && removedCells.Count > 0)
        {
            foreach (var cell in numa.Elements("cell").Where(c => removedCells.Contains((string?)c.Attribute("id") ?? "")).ToList()) XmlLayout.Remove(cell);
            var plain = record.PlainCells.Select(Num).ToHashSet(StringComparer.Ordinal);
            foreach (var cell in numa.Elements("cell"))
            {
                // libvirt mirrors our siblings into the user's cells when it formats the XML; take those back too.
                var distances = cell.Element("distances");
                if (distances is null) continue;
                foreach (var s in distances.Elements("sibling").Where(s => removedCells.Contains((string?)s.Attribute("id") ?? "")).ToList()) XmlLayout.Remove(s);
                var onlySelf = distances.Elements("sibling").All(s => (string?)s.Attribute("id") == (string?)cell.Attribute("id"));
                if (plain.Contains((string?)cell.Attribute("id") ?? "") && onlySelf)
                {
                    XmlLayout.Remove(distances);
                    if (!cell.Elements().Any()) cell.RemoveNodes();
                }
            }
            messages.Add($"removed guest NUMA cell(s) {string.Join(",", removedCells.Order(StringComparer.Ordinal))}");
        }
        var cpu = d.Root.Element("cpu");
        if (record.WasCreated(RecordedElement.Numa) && numa is not null && !numa.Elements().Any())
        {
            XmlLayout.Remove(numa);
            messages.Add("removed <numa>");
        }
        if (record.WasCreated(RecordedElement.Cpu) && cpu is not null && !cpu.Elements().Any() && !cpu.Attributes().Any())
        {
            XmlLayout.Remove(cpu);
            messages.Add("removed <cpu>");
        }

        var commandline = d.Root.Element(QemuCommandLine.Ns + "commandline");
        var runs = record.AddedQemuArgRuns.ToList();
        if (commandline is not null && runs.Count > 0)
        {
            var removed = 0;
            // Later runs first: each run's position was taken after the earlier runs were added.
            foreach (var run in Enumerable.Reverse(runs))
            {
                var present = commandline.Elements(QemuCommandLine.Ns + "arg").ToList();
                if (FindRun(present, run) is not { } start) continue;
                foreach (var arg in present.GetRange(start, run.Count))
                {
                    XmlLayout.Remove(arg);
                    removed++;
                }
            }
            messages.Add($"removed {removed} <qemu:arg> element(s)");
            if (record.WasCreated(RecordedElement.QemuCommandline) && !commandline.Elements().Any())
            {
                XmlLayout.Remove(commandline);
            }
        }
        if (record.WasCreated(RecordedElement.QemuNamespace) && !d.Root.Descendants().Any(e => e.Name.Namespace == QemuCommandLine.Ns))
        {
            d.Root.Attributes().Where(a => a.IsNamespaceDeclaration && a.Value == QemuCommandLine.NamespaceUri).Remove();
        }
    }

    /// <summary>
    /// Where a recorded run of args is now: the exact values, at the recorded position if they are still there,
    /// else the matching run nearest to it (libvirt keeps the order; the user may have added args before ours).
    /// A record from before exact values were kept matches on its first value and count, searching from the end.
    /// </summary>
    private static int? FindRun(List<XElement> present, AddedQemuArgsEntry run)
    {
        string ValueAt(int i) => (string?)present[i].Attribute("value") ?? "";
        if (run.Position is not { } position)
        {
            for (var i = present.Count - run.Count; i >= 0; i--)
            {
                if (ValueAt(i) == run.Values[0]) return i;
            }
            return null;
        }
        bool MatchesAt(int i) => run.Values.Select((v, k) => ValueAt(i + k) == v).All(x => x);
        return Enumerable.Range(0, Math.Max(0, present.Count - run.Count + 1))
            .Where(MatchesAt)
            .OrderBy(i => Math.Abs(i - position))
            .Select(i => (int?)i)
            .FirstOrDefault();
    }

    private static string Num(int v) => v.ToString(CultureInfo.InvariantCulture);

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
            if (TransformRecord.Find(d.Root)?.GraceGpus.Any(e => e.Source == gpu.Address) == true)
            {
                return;
            }
            if (hostdev.Element.Element("acpi")?.Attribute("nodeset") is { } userNodeset)
            {
                if (!Nodeset.TryParse(userNodeset.Value, out var userNodes, out var why))
                {
                    throw new TransformException($"domain '{d.Name}': GPU {source} has <acpi nodeset='{userNodeset.Value}'/>, which is not a nodeset: {why}. " +
                                                 "Fix it, or remove the <acpi> element and run transform again.");
                }
                var count = userNodes.Count;
                if (count != gpu.GiNodes.Count)
                {
                    throw new TransformException($"domain '{d.Name}': GPU {source} has <acpi nodeset='{userNodeset.Value}'/> ({count} node(s)) but the host " +
                                                 $"gives it {gpu.GiNodes.Count} generic-initiator nodes ({Nodeset.Format(gpu.GiNodes)}). Remove the <acpi> element and run transform again.");
                }
                messages.Add($"GPU {source} already has <acpi nodeset='{userNodeset.Value}'/>; left as written.");
                return;
            }

            var numa = EnsureNuma();
            var cells = numa.Elements("cell").ToList();
            SeedFromRecord();
            var firstNew = cells.Count + _virtualCells.Count;
            var guestNodes = Enumerable.Range(firstNew, gpu.GiNodes.Count).ToList();
            RefuseMemoryOnlyCells(cells, gpu, guestNodes);
            var rows = DistanceRows(gpu, cells, guestNodes);

            if (form == GiForm.LibvirtAcpi)
            {
                foreach (var cell in cells.Where(c => c.Element("distances") is null))
                {
                    if (int.TryParse((string?)cell.Attribute("id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && !Record.PlainCells.Contains(id))
                    {
                        Record.PlainCell(id);
                    }
                }
                for (var i = 0; i < guestNodes.Count; i++)
                {
                    var cell = new XElement("cell",
                        new XAttribute("id", Num(guestNodes[i])), new XAttribute("memory", "0"), new XAttribute("unit", "KiB"),
                        new XElement("distances", rows[i].Select(r => new XElement("sibling", new XAttribute("id", Num(r.To)), new XAttribute("value", Num(r.Value))))));
                    XmlLayout.AppendChild(numa, cell);
                    Record.AddedCell(guestNodes[i], gpu.Address);
                }
                var acpi = new XElement("acpi", new XAttribute("nodeset", Nodeset.Format(guestNodes)));
                var anchor = hostdev.Element.Element("source");
                if (anchor is null) XmlLayout.AppendChild(hostdev.Element, acpi);
                else XmlLayout.InsertAfter(anchor, acpi);
                Record.AddedAcpi(gpu.Address);
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
                if (cells.Count > 1 && cells.All(c => c.Element("distances") is null) && !Record.GraceGpus.Any())
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
            Record.GraceGpu(gpu.Address, guestNodes, gpu.GiNodes, form);
            messages.Add($"gave {gpu.Model} GPU {source} guest NUMA node(s) {Nodeset.Format(guestNodes)} (host generic-initiator node(s) {Nodeset.Format(gpu.GiNodes)})" +
                         (form == GiForm.LibvirtAcpi ? " with <acpi nodeset>" : " through <qemu:commandline> (libvirt before 11.8)"));
            Changed = true;
        }

        /// <summary>
        /// Puts the GPUs not placed yet on expanders: one pcie-expander-bus per host SMMU and guest cell, on the cell
        /// standing for the GPUs' CPU node (reusing one an earlier run added for the same pair), a pcie-root-port per
        /// GPU under it and the GPU on that port; iommufd on the GPU hostdevs and an accelerated SMMUv3 per new
        /// expander where the plan has them.
        /// </summary>
        public void PlaceOnExpanders(IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> unplaced, GraceLayoutPlan plan)
        {
            var existing = TransformRecord.Find(d.Root);
            var cells = EnsureNuma().Elements("cell").ToList();
            var groups = unplaced
                .GroupBy(a => (a.Gpu.Smmu ?? "gpu " + a.Gpu.Address, Cell: GuestCellFor(a.Gpu, cells)))
                .OrderBy(g => g.First().Gpu.Address)
                .ToList();
            foreach (var group in groups)
            {
                var smmu = group.First().Gpu.Smmu;
                var cell = group.Key.Cell;
                var controllers = d.PciControllers();
                // An expander of an earlier run, for the same SMMU and cell, and with a vSMMU exactly when this plan has one
                // (a GPU without iommufd must not land under an accelerated vSMMU: QEMU refuses it).
                var expander = existing?.GraceExpanders.FirstOrDefault(x => x.Smmu == smmu && smmu is not null && x.Node == cell &&
                    controllers.Any(c => c.Index == x.Index) && existing.AddedIommus.Contains(x.Index) == plan.Vsmmu)?.Index;
                if (expander is null)
                {
                    expander = NextControllerIndex();
                    AddController(new XElement("controller",
                        new XAttribute("type", "pci"), new XAttribute("index", Num(expander.Value)), new XAttribute("model", "pcie-expander-bus"),
                        new XElement("target", new XElement("node", Num(cell)))));
                    Record.GraceExpander(expander.Value, cell, smmu);
                    if (plan.Vsmmu) AddSmmu(expander.Value, plan);
                    messages.Add($"added pcie-expander-bus index {expander} on guest cell {cell} for the GPUs behind host SMMU {smmu ?? "(unknown)"}" +
                                 (plan.Vsmmu ? ", with an accelerated SMMUv3" : ""));
                }
                foreach (var (hostdev, gpu) in group.OrderBy(a => a.Gpu.Address))
                {
                    var port = NextControllerIndex();
                    var slot = d.GuestPciAddresses().Where(a => a.Address.Bus == expander).Select(a => a.Address.Slot).Append(-1).Max() + 1;
                    var rootPort = new XElement("controller",
                        new XAttribute("type", "pci"), new XAttribute("index", Num(port)), new XAttribute("model", "pcie-root-port"),
                        GuestPciAddress.ToElement(expander.Value, slot));
                    AddController(rootPort);
                    Record.GraceRootPort(port, gpu.Address, expander.Value);
                    XmlLayout.AppendChild(hostdev.Element, GuestPciAddress.ToElement(port, 0));
                    Record.AddedAddress(gpu.Address.ToString());
                    if (plan.Iommufd) EnsureIommufd(hostdev, gpu);
                    messages.Add($"put {gpu.Model} GPU {gpu.Address} on pcie-root-port index {port} under expander {expander}" + (plan.Iommufd ? ", through iommufd" : ""));
                }
            }
            Changed = true;
        }

        /// <summary>
        /// The guest cell standing for the GPU's CPU node (<see cref="GuestNumaCells.StandingFor"/>, the reading the
        /// preflight checks the expander's node against): the CPU cell numatune pins there, else the first CPU cell pinned
        /// nowhere; when every CPU cell is pinned elsewhere, the nearest one, with a warning.
        /// </summary>
        private int GuestCellFor(GraceGpu gpu, List<XElement> cells)
        {
            var cpuNode = LocalCpuNode(gpu);
            var standing = GuestNumaCells.StandingFor(d, cpuNode);
            if (standing.Count > 0) return standing.OrderBy(c => PinnedHostNode(c) == cpuNode ? 0 : 1).ThenBy(c => c).First();
            var cpuCells = cells.Where(c => !string.IsNullOrWhiteSpace((string?)c.Attribute("cpus")))
                .Select(c => int.TryParse((string?)c.Attribute("id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1)
                .Where(id => id >= 0).Order().ToList();
            if (cpuCells.Count == 0) return 0;
            var pinned = cpuCells.Select(c => (Cell: c, Host: PinnedHostNode(c))).ToList();
            var nearest = pinned.OrderBy(p => host.NumaNode(cpuNode)?.Distances.GetValueOrDefault(p.Host!.Value, int.MaxValue) ?? int.MaxValue).First();
            messages.Add($"warning: no guest cell is pinned to host node {cpuNode}, GPU {gpu.Address}'s CPU node; its expander goes on cell {nearest.Cell} " +
                         $"(pinned to host node {nearest.Host}), the nearest. Pin a cell there with <numatune><memnode cellid=… nodeset='{cpuNode}'/> for a guest that mirrors the host.");
            return nearest.Cell;
        }

        private int NextControllerIndex() =>
            d.PciControllers().Select(c => c.Index).Concat(d.GuestPciAddresses().Select(a => a.Address.Bus)).Append(0).Max() + 1;

        /// <summary>Controllers go after the domain's last controller (libvirt keeps the order; readers expect them together).</summary>
        private void AddController(XElement controller)
        {
            var devices = d.Devices ?? throw new TransformException($"domain '{d.Name}' has no <devices>.");
            var last = devices.Elements("controller").LastOrDefault();
            if (last is not null) XmlLayout.InsertAfter(last, controller);
            else if (devices.Elements().FirstOrDefault(e => e.Name.LocalName is not ("emulator" or "disk")) is { } first) XmlLayout.InsertBefore(first, controller);
            else XmlLayout.AppendChild(devices, controller);
        }

        private void AddSmmu(int expander, GraceLayoutPlan plan)
        {
            var driver = new XElement("driver", new XAttribute("pciBus", Num(expander)));
            foreach (var (name, value) in GraceLayoutPlan.SmmuOptions) driver.Add(new XAttribute(name, value));
            if (plan.Cmdqv is { } cmdqv) driver.Add(new XAttribute("cmdqv", cmdqv));
            XmlLayout.AppendChild(d.Devices!, new XElement("iommu", new XAttribute("model", "smmuv3"), driver));
            Record.AddedIommu(expander);
        }

        private void EnsureIommufd(PciHostdev hostdev, GraceGpu gpu)
        {
            var driver = hostdev.Element.Element("driver");
            if ((string?)driver?.Attribute("iommufd") is "yes") return;
            if (driver is null)
            {
                driver = new XElement("driver", new XAttribute("iommufd", "yes"));
                if (hostdev.Element.Elements().FirstOrDefault() is { } first) XmlLayout.InsertBefore(first, driver);
                else XmlLayout.AppendChild(hostdev.Element, driver);
                Record.AddedIommufd(gpu.Address, createdDriver: true);
            }
            else
            {
                driver.SetAttributeValue("iommufd", "yes");
                Record.AddedIommufd(gpu.Address, createdDriver: false);
            }
        }

        /// <summary>
        /// A GPU's generic-initiator nodes come right after the CPU cells and before memory-only cells: the guest kernel
        /// numbers nodes in the order it meets them in the SRAT, and the NVIDIA guest driver expects its GPU's 8 nodes
        /// there (Kata's Grace NUMA rules; tp-libvirt's Grace configs order cells the same way). The nodes are numbered
        /// after the existing cells, so a memory-only cell among those would come first: refuse, with the fix.
        /// </summary>
        private void RefuseMemoryOnlyCells(List<XElement> cells, GraceGpu gpu, List<int> guestNodes)
        {
            var ours = Record.AddedCells.Select(c => c.Id).ToHashSet();
            var memoryOnly = cells.Where(c => string.IsNullOrWhiteSpace((string?)c.Attribute("cpus")) &&
                                              ulong.TryParse((string?)c.Attribute("memory"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m > 0)
                .Select(c => (string?)c.Attribute("id") ?? "?")
                .Where(id => !int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || !ours.Contains(n))
                .ToList();
            if (memoryOnly.Count == 0) return;
            throw new TransformException(
                $"domain '{d.Name}': guest cell(s) {string.Join(",", memoryOnly)} have memory but no vCPUs, and GPU {gpu.Address}'s generic-initiator " +
                $"nodes ({Nodeset.Format(guestNodes)}) would come after them; the guest kernel and the NVIDIA driver expect them right after the CPU cells. " +
                $"Remove the memory-only cell(s) (and their <numatune><memnode>), run transform, then add them back with ids after {guestNodes[^1]}.");
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
            foreach (var e in TransformRecord.Find(d.Root)?.GraceGpus ?? [])
            {
                foreach (var (g, h) in e.Nodes.Zip(e.HostNodes)) _previousGi[g] = h;
                if (e.Form == GiForm.QemuCommandline) _virtualCells.AddRange(e.Nodes);
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
                    // libvirt rejects 10 between distinct cells, yet a GPU's own nodes can be 10 apart in the host's SLIT
                    // (KubeVirt's Grace fixtures): 11, the nearest distance libvirt allows, as KubeVirt writes.
                    row.Add((other, value <= LocalDistance ? LocalDistance + 1 : value));
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
            if (set is null) return null;
            if (!Nodeset.TryParse(set, out var nodes, out var why) || nodes.Count == 0)
            {
                throw new TransformException($"domain '{d.Name}': <numatune><memnode cellid='{Num(cell)}' nodeset='{set}'/> " +
                                             $"{(nodes.Count == 0 && why.Length == 0 ? "names no host node" : "is not a nodeset: " + why)}, so the distances of the GPU's " +
                                             "nodes to this cell cannot follow the host's. Fix the nodeset, then run transform again.");
            }
            return nodes[0];
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
                Record.Created(RecordedElement.Cpu);
            }
            var numa = cpu.Element("numa");
            if (numa is null)
            {
                numa = new XElement("numa");
                XmlLayout.AppendChild(cpu, numa);
                Record.Created(RecordedElement.Numa);
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
                Record.AddedCell(0, null);
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
            var alias = GraceAssignment.AliasFor(gpu.Address);
            var element = new XElement("alias", new XAttribute("name", alias));
            var anchor = hostdev.Element.Element("source");
            if (anchor is null) XmlLayout.AppendChild(hostdev.Element, element);
            else XmlLayout.InsertAfter(anchor, element);
            Record.AddedAlias(gpu.Address, alias);
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
            if (target.Version < VersionThresholds.LibvirtDriverModel)
            {
                if (hostdev.Managed != "no")
                {
                    messages.Add($"warning: libvirt {target.Version} ({target.Source}) binds managed hostdevs to plain vfio-pci, which hides GPU {source}'s " +
                                 $"coherent memory. Use managed='no' (the hook binds {GraceGpu.VariantDriver} when bind-managed-no is set) or libvirt {VersionThresholds.LibvirtDriverModel} or newer.");
                }
                return;
            }
            if (driver is null)
            {
                driver = new XElement("driver", new XAttribute("model", GraceGpu.VariantDriver));
                if (hostdev.Element.Elements().FirstOrDefault() is { } first) XmlLayout.InsertBefore(first, driver);
                else XmlLayout.AppendChild(hostdev.Element, driver);
                Record.AddedDriverModel(gpu.Address, createdDriver: true);
            }
            else
            {
                driver.SetAttributeValue("model", GraceGpu.VariantDriver);
                Record.AddedDriverModel(gpu.Address, createdDriver: false);
            }
            messages.Add($"set <driver model='{GraceGpu.VariantDriver}'/> on GPU {source}");
            Changed = true;
        }

        public void EnsureMmioWindow(IReadOnlyList<GraceGpu> gpus, TargetQemu qemu)
        {
            var window = GraceAssignment.MmioWindowFor(gpus);
            var (verdict, problem) = HighmemMmioWindow.Assess(d, window, "as sysfs shows them");
            switch (verdict)
            {
                case HighmemMmioVerdict.Enough:
                    return;
                case HighmemMmioVerdict.TooSmall:
                    // The user's own value: left as written, with the preflight's words.
                    messages.Add($"warning: domain '{d.Name}': {problem}");
                    return;
                case HighmemMmioVerdict.Invalid:
                    throw new TransformException($"domain '{d.Name}': {problem}");
            }
            var size = QemuCommandLine.QemuSize(window);
            var arg = "highmem-mmio-size=" + size;
            if (!qemu.AtLeast(VersionThresholds.QemuHighmemMmioSize))
            {
                messages.Add($"warning: the GPUs' 64-bit BARs need a {size} PCI window but the virt machine of QEMU {qemu} has a fixed 512G one and no " +
                             $"highmem-mmio-size (QEMU {TargetQemu.Show(VersionThresholds.QemuHighmemMmioSize)}): the guest will not map every BAR. Install QEMU " +
                             $"{TargetQemu.Show(VersionThresholds.QemuHighmemMmioSize)} or newer and run transform again.");
                return;
            }
            if (!qemu.IsKnown)
            {
                messages.Add($"warning: writing -machine {arg}, which needs QEMU {TargetQemu.Show(VersionThresholds.QemuHighmemMmioSize)} or newer.");
            }
            AddQemuArgs(["-machine", arg]);
            messages.Add($"set the virt machine's 64-bit PCI window to {size} (highmem-mmio-size) for {Bytes(gpus.Aggregate(0UL, (s, g) => s + g.RootPortWindowBytes))} of GPU root-port windows and 1 GiB for other devices");
            Changed = true;
        }

        private static string Bytes(ulong b) => (b >> 30).ToString(CultureInfo.InvariantCulture) + " GiB";

        private void AddQemuArgs(IEnumerable<string> values)
        {
            if (!d.Root.Attributes().Any(a => a.IsNamespaceDeclaration && a.Value == QemuCommandLine.NamespaceUri))
            {
                d.Root.Add(new XAttribute(XNamespace.Xmlns + "qemu", QemuCommandLine.NamespaceUri));
                Record.Created(RecordedElement.QemuNamespace);
            }
            var commandline = d.Root.Element(QemuCommandLine.Ns + "commandline");
            if (commandline is null)
            {
                commandline = new XElement(QemuCommandLine.Ns + "commandline");
                XmlLayout.AppendChild(d.Root, commandline);
                Record.Created(RecordedElement.QemuCommandline);
            }
            var list = values.ToList();
            var position = commandline.Elements(QemuCommandLine.Ns + "arg").Count();
            foreach (var v in list) XmlLayout.AppendChild(commandline, new XElement(QemuCommandLine.Ns + "arg", new XAttribute("value", v)));
            // Every value exactly, and where the run starts: undo removes these and never a user's arg of the same value.
            Record.AddedQemuArgs(position, list);
        }
    }
}
