using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

/// <summary>
/// Completes a pseries domain for NVLink2 passthrough: every assigned V100 gets all its NPU bridges, on one guest
/// PHB per host IOMMU group, and the locked-memory limit libvirt cannot compute itself is written. Edits the live
/// tree only where it must and records each edit, so the result is idempotent and <see cref="DomainTransformer.Undo"/> exact.
/// </summary>
public static class Nv2DomainTransformer
{
    private const int FirstSlot = 1;
    private const int LastSlot = 31;

    public static TransformResult Transform(string xml, HostTopology host, TransformOptions options)
    {
        var d = DomainDefinition.Parse(xml);
        var messages = new List<string>();
        var errors = new List<string>();
        var hostdevs = d.PciHostdevs();

        var gpus = new SortedDictionary<PciAddress, NvGpu>();
        foreach (var h in hostdevs.Where(h => !h.FromInterface))
        {
            if (host.OwningGpu(h.Source) is { } gpu)
            {
                gpus[gpu.Address] = gpu;
            }
            else if (!host.Devices.ContainsKey(h.Source))
            {
                var nv2Domains = host.Gpus.Where(g => g.IsNvlink2).SelectMany(g => g.Bridges.Append(g.Address)).Select(a => a.Domain).ToHashSet();
                if (nv2Domains.Contains(h.Source.Domain))
                {
                    errors.Add($"hostdev {h.Source} is not on this host, but its PCI domain {h.Source.Domain:x4} holds this host's NVLink2 GPUs and bridges: " +
                               $"check the address (libvirt-nvlink topology lists them: {string.Join(", ", host.Gpus.Where(g => g.IsNvlink2).Select(g => g.Address))}).");
                }
                else
                {
                    messages.Add($"warning: hostdev {h.Source} is not present on this host; libvirt will fail to start the domain here.");
                }
            }
        }
        if (gpus.Count == 0)
        {
            ThrowIfAny(d, errors);
            return new TransformResult(xml, false, messages, null);
        }
        if (GuestArch.Resolve(d, GuestArch.HostArch(host)) is { } assumed) messages.Add(assumed);
        if (!d.IsPpc64 || !d.IsPseries)
        {
            throw new TransformException(
                $"domain '{d.Name}': assigns NVLink2 GPU {string.Join(", ", gpus.Keys)} but is arch='{d.Arch ?? "(none)"}' machine='{d.Machine ?? "(none)"}' in <os><type>. " +
                "NVLink2 passthrough needs a ppc64 pseries guest: <type arch='ppc64' machine='pseries'>hvm</type>.");
        }

        foreach (var gpu in gpus.Values.Where(g => !g.HasAllBridges))
        {
            errors.Add($"GPU {gpu.Address}: the host is missing some of its NVLink2 bridges from PCI, so the domain cannot be completed. " +
                       "Run 'libvirt-nvlink topology' for the finding and its fix.");
        }

        // Everything that must sit on one guest PHB, keyed by host IOMMU group.
        var groups = new SortedDictionary<int, List<NvGpu>>();
        foreach (var gpu in gpus.Values)
        {
            if (gpu.IommuGroup is not { } g)
            {
                errors.Add($"GPU {gpu.Address} has no readable IOMMU group on this host; VFIO cannot assign it. Boot with the IOMMU enabled.");
                continue;
            }
            var split = gpu.Bridges.Where(b => host.IommuGroupOf(b) != g).ToList();
            if (split.Count > 0)
            {
                errors.Add($"GPU {gpu.Address} is in IOMMU group {g} but its bridge(s) {string.Join(", ", split)} are not; they cannot share a guest PHB. See 'libvirt-nvlink topology'.");
                continue;
            }
            if (!groups.TryGetValue(g, out var list)) groups[g] = list = [];
            list.Add(gpu);
        }
        ThrowIfAny(d, errors);

        foreach (var (g, members) in groups)
        {
            var others = host.Gpus.Where(o => o.IommuGroup == g && !members.Contains(o)).Select(o => o.Address).ToList();
            if (others.Count > 0)
            {
                messages.Add($"warning: IOMMU group {g} also holds GPU {string.Join(", ", others)}: while '{d.Name}' runs, " +
                             "no other guest can use it (VFIO assigns whole groups). Assign it here too, or boot a kernel with one group per GPU.");
            }
        }

        var edit = new Edit(d, host, messages);
        foreach (var (g, members) in groups) edit.PlaceGroup(g, members, errors);
        ThrowIfAny(d, errors);

        var memlock = MemlockCalculator.Nv2Requirement(d, new TopologyPciFacts(host), options.Target.Version);
        edit.ApplyMemlock(memlock, options);

        if (!edit.Changed)
        {
            messages.Add($"domain '{d.Name}': already complete for NVLink2; nothing changed.");
            return new TransformResult(xml, false, messages, memlock);
        }
        return new TransformResult(d.ToXml(), true, messages, memlock);
    }

    /// <summary>Removes the NVLink2 edits the record lists, restoring a replaced hard_limit. Called by <see cref="DomainTransformer.Undo"/>.</summary>
    internal static void UndoRecorded(DomainDefinition d, TransformRecord record, List<string> messages)
    {
        var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
        foreach (var source in record.AddedHostdevSources)
        {
            foreach (var h in hostdevs.Where(h => h.Source.ToString() == source)) XmlLayout.Remove(h.Element);
            messages.Add($"removed hostdev {source}");
        }
        foreach (var source in record.AddedAddressSources)
        {
            foreach (var h in hostdevs.Where(h => h.Source.ToString() == source && h.Element.Parent is not null))
            {
                if (h.Element.Element("address") is { } a) XmlLayout.Remove(a);
            }
            messages.Add($"removed the guest address given to {source}");
        }
        foreach (var index in record.AddedControllers)
        {
            foreach (var c in d.PciControllers().Where(c => c.Index == index)) XmlLayout.Remove(c.Element);
            messages.Add($"removed PHB controller index {index}");
        }
        MemtuneEdit.Restore(d, record, messages);
    }

    private static void ThrowIfAny(DomainDefinition d, List<string> errors)
    {
        if (errors.Count == 0) return;
        throw new TransformException(errors.Count == 1
            ? $"domain '{d.Name}': {errors[0]}"
            : $"domain '{d.Name}':\n  - {string.Join("\n  - ", errors)}");
    }

    /// <summary>The edits of one transform run, each recorded as it is made.</summary>
    private sealed class Edit(DomainDefinition d, HostTopology host, List<string> messages)
    {
        private readonly HashSet<int> _claimedBuses = [];
        private TransformRecord? _record;

        public bool Changed { get; private set; }

        private TransformRecord Record => _record ??= TransformRecord.FindOrCreate(d.Root);

        public void PlaceGroup(int group, List<NvGpu> gpus, List<string> errors)
        {
            var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
            var inGroup = hostdevs.Where(h => host.IommuGroupOf(h.Source) == group).ToList();
            var buses = Nv2Placement.BusesOf(inGroup);
            int bus;
            if (buses.Count == 0)
            {
                bus = FreePhb() ?? AddPhb();
            }
            else
            {
                if (Nv2Placement.Check(d, host, group, hostdevs) is [var problem, ..])
                {
                    errors.Add(Describe(problem, gpus));
                    return;
                }
                bus = buses[0];
                if (!CheckUserBus(group, bus, errors)) return;
            }
            _claimedBuses.Add(bus);

            var used = new HashSet<int>(d.GuestPciAddresses().Where(a => a.Address.Bus == bus).Select(a => a.Address.Slot));
            int NextSlot()
            {
                for (var s = FirstSlot; s <= LastSlot; s++)
                {
                    if (used.Add(s)) return s;
                }
                throw new TransformException($"domain '{d.Name}': guest PHB bus 0x{bus:x2} has no free slot left for IOMMU group {group}.");
            }

            foreach (var h in inGroup.Where(h => h.GuestAddress is null))
            {
                XmlLayout.AppendChild(h.Element, GuestPciAddress.ToElement(bus, NextSlot()));
                Record.AddedAddress(h.Source.ToString());
                messages.Add($"placed {h.Source} on guest PHB bus 0x{bus:x2}");
                Changed = true;
            }

            foreach (var gpu in gpus)
            {
                var gpuHostdev = hostdevs.FirstOrDefault(h => h.Source == gpu.Address);
                var assigned = hostdevs.Select(h => h.Source).ToHashSet();
                var anchor = hostdevs.Where(h => h.Source == gpu.Address || gpu.Bridges.Contains(h.Source)).Select(h => h.Element).Last();
                if (gpuHostdev is null)
                {
                    // Adding a GPU the user did not ask for would be presumptuous; say what is odd instead.
                    messages.Add($"warning: bridge(s) of GPU {gpu.Address} are assigned without the GPU; assign the GPU too, or the links are useless.");
                    continue;
                }
                foreach (var bridge in gpu.Bridges.Where(b => !assigned.Contains(b)))
                {
                    var element = NewBridgeHostdev(bridge, gpuHostdev?.Element, bus, NextSlot());
                    XmlLayout.InsertAfter(anchor, element);
                    anchor = element;
                    Record.AddedHostdev(bridge.ToString(), gpu.Address.ToString());
                    messages.Add($"added NVLink2 bridge {bridge} of GPU {gpu.Address} on guest PHB bus 0x{bus:x2}");
                    Changed = true;
                }
            }
        }

        private string Describe(Nv2PlacementProblem problem, List<NvGpu> gpus) => problem switch
        {
            Nv2SplitAcrossPhbs split =>
                $"host IOMMU group {split.Group} ({string.Join(", ", gpus.Select(g => "GPU " + g.Address))} and bridges) is split across guest PHBs: " +
                $"{string.Join(", ", split.Placed.Select(p => $"{p.Hostdev.Source} on bus 0x{p.Bus:x2}"))}. " +
                "QEMU pairs a GPU with its bridges per PHB and needs one PHB per IOMMU group. Give them all the same bus, " +
                "or delete their <address type='pci'> lines and run transform again.",
            Nv2OnDefaultPhb onDefault =>
                $"host IOMMU group {onDefault.Group} is placed on the default PHB (bus 0x00), which libvirt keeps for emulated devices. " +
                "Delete the <address type='pci'> lines of its hostdevs and run transform again (it adds a PHB), or use another bus.",
            Nv2SharedPhb shared =>
                $"guest PHB bus 0x{shared.Bus:x2} holds host IOMMU group {shared.Group} and also " +
                $"{string.Join(", ", shared.Others.Select(e => d.PciHostdevs().FirstOrDefault(h => h.Element == e)?.Source.ToString() ?? "<" + e.Name.LocalName + ">"))}. " +
                "QEMU's NVLink2 ATSD support needs one host IOMMU group per PHB: move the other devices to another bus.",
            _ => throw new InvalidOperationException(problem.GetType().Name),
        };

        /// <summary>A bus the user chose for the group must be a pci-root PHB; one that does not exist yet is added.</summary>
        private bool CheckUserBus(int group, int bus, List<string> errors)
        {
            var controller = d.PciControllers().FirstOrDefault(c => c.Index == bus);
            if (controller is null)
            {
                AddPhb(bus);
            }
            else if (!controller.IsSpaprPhb)
            {
                errors.Add($"bus 0x{bus:x2} of host IOMMU group {group} is a '{controller.Model}' controller, not a spapr-pci-host-bridge pci-root. " +
                           "NVLink2 devices must sit directly on a guest PHB: use a pci-root controller's index as the bus.");
                return false;
            }
            return true;
        }

        /// <summary>An existing extra PHB with nothing on it, not yet given to another group.</summary>
        private int? FreePhb()
        {
            var usedBuses = d.GuestPciAddresses().Select(a => a.Address.Bus).ToHashSet();
            return d.PciControllers()
                .Where(c => c.IsSpaprPhb && c.Index != 0 && !usedBuses.Contains(c.Index) && !_claimedBuses.Contains(c.Index))
                .Select(c => (int?)c.Index)
                .FirstOrDefault();
        }

        private int AddPhb(int? index = null)
        {
            var controllers = d.PciControllers();
            var busesInUse = d.GuestPciAddresses().Select(a => a.Address.Bus);
            var newIndex = index ?? controllers.Select(c => c.Index).Concat(busesInUse).Append(0).Max() + 1;
            var targets = controllers.Where(c => c.IsSpaprPhb).Select(c => c.TargetIndex ?? (c.Index == 0 ? 0 : c.Index)).Append(0);
            var target = targets.Max() + 1;
            var controller = new XElement("controller",
                new XAttribute("type", "pci"),
                new XAttribute("index", newIndex.ToString(CultureInfo.InvariantCulture)),
                new XAttribute("model", "pci-root"),
                new XElement("model", new XAttribute("name", "spapr-pci-host-bridge")),
                new XElement("target", new XAttribute("index", target.ToString(CultureInfo.InvariantCulture))));
            var devices = d.Devices ?? throw new TransformException($"domain '{d.Name}' has no <devices>.");
            var anchor = devices.Elements("controller").LastOrDefault() ?? devices.Elements("emulator").LastOrDefault();
            if (anchor is null) XmlLayout.AppendChild(devices, controller);
            else XmlLayout.InsertAfter(anchor, controller);
            Record.AddedController(newIndex);
            messages.Add($"added guest PHB (pci-root index {newIndex}, spapr-pci-host-bridge target {target})");
            Changed = true;
            return newIndex;
        }

        private static XElement NewBridgeHostdev(PciAddress bridge, XElement? gpuHostdev, int bus, int slot)
        {
            var e = new XElement("hostdev", new XAttribute("mode", "subsystem"), new XAttribute("type", "pci"));
            if (gpuHostdev?.Attribute("managed") is { } managed) e.Add(new XAttribute("managed", managed.Value));
            if (gpuHostdev?.Element("driver") is { } driver) e.Add(new XElement(driver.Name, driver.Attributes(), driver.Elements()));
            e.Add(new XElement("source", PciAddressXml.SourceAddress(bridge)));
            e.Add(GuestPciAddress.ToElement(bus, slot));
            return e;
        }

        public void ApplyMemlock(MemlockResult computed, TransformOptions options)
        {
            var target = options.Target;
            if (options.Memlock == MemlockMode.Never)
            {
                messages.Add("memlock: --memlock never: <memtune> left alone.");
                return;
            }
            if (options.Memlock == MemlockMode.Auto)
            {
                if (target.IsKnown && target.Version >= VersionThresholds.LibvirtNv2Memlock)
                {
                    messages.Add($"memlock: libvirt {target.Version} ({target.Source}) computes the NVLink2 limit itself " +
                                 $"({computed.Rule}, {computed.Bytes} bytes); no <hard_limit> written (--memlock auto).");
                    return;
                }
                messages.Add(target.IsKnown
                    ? $"memlock: libvirt {target.Version} predates NVLink2-aware limits (5.3), so the limit is written as <hard_limit>."
                    : $"memlock: the target libvirt version is unknown ({target.Source}), so the limit is written as <hard_limit> to be safe; pass --libvirt-version to decide otherwise.");
            }
            if (MemtuneEdit.Write(d, () => Record, computed.Bytes >> 10, $"{computed.Rule}, {computed.PhbCount} PHB(s)", messages)) Changed = true;
        }
    }
}
