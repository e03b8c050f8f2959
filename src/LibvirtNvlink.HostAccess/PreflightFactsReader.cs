using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
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

    /// <summary>The libvirtd running a hook is the one that wrote the capability cache (qemuCaps/selfvers).</summary>
    public static TargetLibvirt TargetFromCache(ulong? number) => number is { } n
        ? new TargetLibvirt(LibvirtVersion.FromNumber(n), "libvirt capability cache")
        : new TargetLibvirt(LibvirtVersion.Assumed, TargetLibvirt.FromAssumption);
}
