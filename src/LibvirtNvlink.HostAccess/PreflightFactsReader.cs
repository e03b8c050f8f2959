using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess.Vfio;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.HostAccess;

/// <summary>Gathers what <see cref="Nv2Preflight"/> needs from the host, for the hook and for `check` alike.</summary>
public static class PreflightFactsReader
{
    /// <param name="target">The libvirt that will run the domain; null: the libvirtd that wrote the capability cache.</param>
    public static PreflightFacts Read(HostRoot root, string capabilityCache, DomainDefinition domain, TargetLibvirt? target,
        IReadOnlyList<VfioGroupProbe> vfioProbes, IReadOnlySet<PciAddress> boundByHook)
    {
        var cache = PlatformReader.ReadLibvirtCache(capabilityCache, domain.Emulator);
        return new PreflightFacts(
            target ?? TargetFromCache(cache.LibvirtNumber),
            PlatformReader.KernelRelease(root),
            cache.Qemu,
            () => PlatformReader.ProcessesHoldingGpus(root),
            vfioProbes,
            boundByHook,
            cache.QemuMicro);
    }

    /// <summary>
    /// What VFIO reports for the devices a domain assigns: NVLink2 devices for their vendor regions, Grace GPUs for the
    /// BARs QEMU will map. Only groups the kernel can already hand out (every member on a VFIO driver; managed='yes'
    /// devices are rebound by libvirt later and checked again by QEMU itself). Opening a group makes it busy for that
    /// moment: a QEMU opening it at the same time fails.
    /// </summary>
    public static IReadOnlyList<VfioGroupProbe> ProbeVfio(HostRoot root, DomainDefinition domain, HostTopology topology)
    {
        var probes = new List<VfioGroupProbe>();
        var vfio = new HostVfioProbes(root);
        // NVLink2 devices for their vendor regions, Grace GPUs for the BAR sizes QEMU will map.
        var assigned = Nv2Preflight.Nv2Hostdevs(domain, topology).Select(h => h.Source)
            .Concat(GraceAssignment.AssignedGraceGpus(domain, topology).Select(a => a.Gpu.Address)).ToHashSet();
        foreach (var group in assigned.Select(topology.IommuGroupOf).OfType<int>().Distinct().Order())
        {
            if (!VfioProbeScope.IsOnVfio(topology, group) || vfio.For(group) is not { } probe) continue;
            probes.Add(probe.Probe(group, [.. topology.IommuGroupMembers(group).Where(assigned.Contains).Select(m => m.ToString())],
                withBarSizes: VfioProbeScope.WantsBarSizes(topology, group)));
        }
        return probes;
    }

    /// <summary>The libvirtd running a hook is the one that wrote the capability cache (qemuCaps/selfvers).</summary>
    public static TargetLibvirt TargetFromCache(ulong? number) => number is { } n
        ? new TargetLibvirt(LibvirtVersion.FromNumber(n), "libvirt capability cache")
        : new TargetLibvirt(LibvirtVersion.Assumed, TargetLibvirt.FromAssumption);
}
