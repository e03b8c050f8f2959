using LibvirtNvlink.Domain;

namespace LibvirtNvlink.Memlock;

/// <summary>The guest PHBs a pseries domain will have once libvirt has placed its devices.</summary>
/// <param name="Explicit">spapr-pci-host-bridge pci-root controllers in the XML, the implicit default one included.</param>
/// <param name="Added">PHBs libvirt will add for hostdevs without a guest address.</param>
public sealed record PhbPrediction(int Explicit, int Added, IReadOnlyList<string> Notes)
{
    public int Total => Explicit + Added;
}

/// <summary>
/// Replays libvirt's isolation-group placement on pseries (qemu_domain_address.c, domain_addr.c): each PCI hostdev
/// gets isolation group = host IOMMU group + 1; the default PHB is locked to emulated devices; explicitly
/// addressed devices claim their bus for their group; an unaddressed hostdev joins a bus of its group, else an
/// empty unlocked bus, else a new PHB.
/// </summary>
public static class PhbPlacementPredictor
{
    private const int SlotsPerPhb = 31;

    public static PhbPrediction Predict(DomainDefinition domain, IHostPciFacts host)
    {
        var notes = new List<string>();
        var buses = new SortedDictionary<int, Bus>();
        foreach (var c in domain.PciControllers().Where(c => c.IsSpaprPhb))
        {
            buses[c.Index] = new Bus();
        }
        // libvirt always gives a pseries guest the default PHB, pci-root index 0.
        buses.TryAdd(0, new Bus());
        buses[0].Locked = true;

        var hostdevs = domain.PciHostdevs();
        var groupOf = new Dictionary<System.Xml.Linq.XElement, int>();
        foreach (var h in hostdevs)
        {
            var g = host.IommuGroupOf(h.Source);
            if (g is null)
            {
                notes.Add($"the IOMMU group of {h.Source} cannot be read, so libvirt will not isolate it (no PHB added for it)");
                groupOf[h.Element] = 0;
            }
            else
            {
                groupOf[h.Element] = g.Value + 1;
            }
        }

        var explicitCount = buses.Count;
        foreach (var (device, address) in domain.GuestPciAddresses())
        {
            if (!buses.TryGetValue(address.Bus, out var bus))
            {
                // A device addressed to a bus with no controller: libvirt adds a PHB for it.
                bus = new Bus();
                buses[address.Bus] = bus;
                explicitCount++;
            }
            var isolation = groupOf.GetValueOrDefault(device);
            if (bus.Used == 0 && !bus.Locked) bus.Isolation = isolation;
            else if (bus.Isolation != isolation) bus.Isolation = 0;
            bus.Used++;
        }

        var added = 0;
        foreach (var h in hostdevs.Where(h => h.GuestAddress is null))
        {
            var isolation = groupOf[h.Element];
            var bus = buses.Values.FirstOrDefault(b => b.Isolation == isolation && b.Used < SlotsPerPhb)
                      ?? buses.Values.FirstOrDefault(b => b.Used == 0 && !b.Locked);
            if (bus is null)
            {
                bus = new Bus();
                buses[buses.Keys.Max() + 1] = bus;
                added++;
            }
            if (bus.Used == 0 && !bus.Locked) bus.Isolation = isolation;
            bus.Used++;
        }
        return new PhbPrediction(explicitCount, added, notes);
    }

    private sealed class Bus
    {
        public int Isolation;
        public bool Locked;
        public int Used;
    }
}
