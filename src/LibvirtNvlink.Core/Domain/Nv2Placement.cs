using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Domain;

/// <summary>
/// The one statement of where QEMU lets NVLink2 devices sit in a pseries guest: every host IOMMU group holding an
/// NVLink2 GPU on exactly one guest PHB, not the default PHB, and alone on it. The transformer (which repairs what it
/// can and refuses the rest) and the preflight (which refuses a start) both ask this.
/// </summary>
public static class Nv2Placement
{
    /// <summary>The guest buses the group's hostdevs are placed on (empty: libvirt is left to choose).</summary>
    public static IReadOnlyList<int> BusesOf(IEnumerable<PciHostdev> groupHostdevs) =>
        [.. groupHostdevs.Where(h => h.GuestAddress is not null).Select(h => h.GuestAddress!.Value.Bus).Distinct().Order()];

    /// <summary>What is wrong with the placement of one group, in the order a user should fix it; empty when nothing.</summary>
    /// <param name="hostdevs">The domain's PCI hostdevs not from &lt;interface&gt;, when the caller has them already.</param>
    public static IReadOnlyList<Nv2PlacementProblem> Check(DomainDefinition d, HostTopology host, int group, IReadOnlyList<PciHostdev>? hostdevs = null)
    {
        var all = hostdevs ?? [.. d.PciHostdevs().Where(h => !h.FromInterface)];
        var inGroup = all.Where(h => host.IommuGroupOf(h.Source) == group).ToList();
        var buses = BusesOf(inGroup);
        if (buses.Count > 1)
        {
            return [new Nv2SplitAcrossPhbs(group, [.. inGroup.Where(h => h.GuestAddress is not null).Select(h => (h, h.GuestAddress!.Value.Bus))])];
        }
        if (buses.Count == 0) return [];
        var bus = buses[0];
        if (bus == 0) return [new Nv2OnDefaultPhb(group)];
        var groupElements = inGroup.Select(h => h.Element).ToHashSet();
        var strangers = d.GuestPciAddresses().Where(a => a.Address.Bus == bus && !groupElements.Contains(a.Device)).Select(a => a.Device).ToList();
        if (strangers.Count == 0) return [];
        var otherGroups = all.Where(h => strangers.Contains(h.Element))
            .Select(h => host.IommuGroupOf(h.Source)).OfType<int>().Distinct().Order().ToList();
        return [new Nv2SharedPhb(group, bus, strangers, otherGroups)];
    }
}
