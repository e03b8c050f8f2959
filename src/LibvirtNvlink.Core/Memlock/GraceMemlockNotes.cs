using System.Globalization;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Memlock;

/// <summary>
/// What explain adds for Grace GPUs. libvirt's formula (guest RAM + 1 GiB for VFIO) knows nothing of the coherent
/// memory BAR: with the legacy VFIO container that mapping is not pinned, but iommufd pins and accounts it, so a
/// domain whose hostdevs use iommufd needs the BARs on top of what libvirt sets.
/// </summary>
public static class GraceMemlockNotes
{
    public static IEnumerable<string> For(DomainDefinition d, HostTopology host, MemlockResult result)
    {
        var assigned = GraceAssignment.AssignedGraceGpus(d, host);
        if (assigned.Count == 0) yield break;
        var domainWide = d.Root.Element("iommufd") is { } e && (string?)e.Attribute("enabled") != "no";
        ulong iommufdBars = 0;
        foreach (var (hostdev, gpu) in assigned)
        {
            var viaIommufd = (string?)hostdev.DriverElement?.Attribute("iommufd") == "yes" || (domainWide && (string?)hostdev.DriverElement?.Attribute("iommufd") != "no");
            var size = Show(gpu.Mmio64Bytes);
            if (viaIommufd)
            {
                iommufdBars += gpu.Mmio64Bytes;
                yield return $"Grace GPU {gpu.Address} uses iommufd, which pins the mappings of its {size} of 64-bit BARs (the coherent memory among them) and counts them against this limit; libvirt's formula leaves them out.";
            }
            else
            {
                yield return $"Grace GPU {gpu.Address}: its {size} of 64-bit BARs (the coherent memory among them) are mapped through the legacy VFIO container, which does not pin them, so libvirt's limit covers this GPU.";
            }
        }
        if (iommufdBars > 0 && !result.Unlimited)
        {
            var needed = result.Bytes + iommufdBars;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"With iommufd the guest needs {needed} bytes ({needed >> 10} KiB) of locked memory: set <memtune><hard_limit unit='KiB'>{needed >> 10}</hard_limit></memtune>.");
        }
    }

    private static string Show(ulong bytes) => (bytes >> 30).ToString(CultureInfo.InvariantCulture) + " GiB";
}
