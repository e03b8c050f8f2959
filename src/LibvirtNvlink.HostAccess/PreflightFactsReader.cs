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
        var release = PlatformReader.KernelRelease(root);
        return new PreflightFacts(
            target ?? TargetFromCache(cache.LibvirtNumber),
            release,
            cache.Qemu,
            () => PlatformReader.ProcessesHoldingGpus(root),
            vfioProbes,
            boundByHook,
            cache.QemuMicro,
            UsesIommufdOrNestedSmmu(domain) ? ReadIommufd(root, release, domain.PciHostdevs().Select(h => h.Source)) : null);
    }

    /// <summary>Only such domains have a rule that needs the iommufd facts; the rest skip reading the kernel's config.</summary>
    private static bool UsesIommufdOrNestedSmmu(DomainDefinition domain)
    {
        var layout = GuestPciLayout.Read(domain);
        return layout.Smmus.Any(s => s.Accel) || domain.PciHostdevs().Any(layout.UsesIommufd);
    }

    public const string DevIommu = "/dev/iommu";

    /// <summary>Where the VFIO cdev of a device lives: /dev/vfio/devices/vfioN (CONFIG_VFIO_DEVICE_CDEV).</summary>
    public const string VfioCdevDirectory = "/dev/vfio/devices";

    /// <summary>A kernel's .config is a few hundred kilobytes; a file of 4 MiB is not one.</summary>
    public const int KernelConfigMaxBytes = 4 << 20;

    /// <summary>
    /// What the host offers for iommufd: /dev/iommu, the VFIO cdev of each of <paramref name="devices"/> (found the way
    /// libvirt finds it: the vfioN entry in the device's sysfs vfio-dev directory, opened as /dev/vfio/devices/vfioN),
    /// and the kernel's configuration (/boot/config-RELEASE, where Debian, Ubuntu, RHEL and SUSE install it; null when it
    /// cannot be read).
    /// </summary>
    public static IommufdHostFacts ReadIommufd(HostRoot root, string? kernelRelease, IEnumerable<PciAddress> devices)
    {
        var cdevs = new Dictionary<PciAddress, string>();
        foreach (var a in devices.Distinct())
        {
            var name = root.ListNames($"{PciSysfsReader.DevicesPath}/{a}/vfio-dev")
                .FirstOrDefault(n => n.StartsWith("vfio", StringComparison.Ordinal) && n.Length > 4 && n[4..].All(char.IsAsciiDigit));
            // The entry itself is resolved too, so a snapshot keeps it (a listing alone copies only links).
            if (name is not null && root.IsDirectory($"{PciSysfsReader.DevicesPath}/{a}/vfio-dev/{name}") && root.Exists($"{VfioCdevDirectory}/{name}"))
            {
                cdevs[a] = name;
            }
        }
        return new IommufdHostFacts(root.Exists(DevIommu), cdevs, ReadKernelConfig(root, kernelRelease));
    }

    /// <summary>Paths read only for whether they exist (character devices on a real host): a snapshot keeps a stand-in.</summary>
    public static bool IsPresenceOnly(string hostPath) =>
        hostPath == DevIommu || hostPath.StartsWith(VfioCdevDirectory + "/", StringComparison.Ordinal);

    /// <remarks>
    /// /proc/config.gz is not read: decompressing it would link zlib into the NativeAOT CLI and hook, which lintian
    /// refuses as an embedded library; the distributions Grace runs (Debian, Ubuntu, RHEL, SUSE) all install
    /// /boot/config-RELEASE. Without it the options are unknown and the rules fall back to the release.
    /// </remarks>
    public static KernelConfig? ReadKernelConfig(HostRoot root, string? release)
    {
        // A release is one path component; anything else is not a kernel's.
        if (release is not { Length: > 0 } r || r.Contains('/', StringComparison.Ordinal) || r is "." or "..") return null;
        var path = $"/boot/config-{r}";
        try
        {
            return root.ReadBytesAt(root.Map(path), KernelConfigMaxBytes) is { } bytes
                ? KernelConfig.Parse(System.Text.Encoding.UTF8.GetString(bytes), path)
                : null;
        }
        catch (IOException)
        {
            // Unreadable (a FIFO, too big, not ours to read): unknown.
            return null;
        }
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
