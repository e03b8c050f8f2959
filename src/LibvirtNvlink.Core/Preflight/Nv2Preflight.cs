using System.Globalization;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Preflight;

/// <summary>Host facts the preflight needs beyond the topology; each may be unknown.</summary>
/// <param name="QemuVersion">The emulator's version, e.g. (7, 2), from libvirt's capability cache.</param>
/// <param name="ProcessesHoldingGpus">Names of host processes that keep GPUs open (nvidia-persistenced); asked only
/// when an assigned GPU is bound to the nvidia driver, because walking /proc costs a read per process.</param>
/// <param name="BoundByHook">Devices the hook itself will bind to vfio-pci (config bind-managed-no).</param>
/// <param name="QemuMicro">The emulator's micro release (22 of 7.2.22), for fixes that came in stable releases.</param>
/// <param name="Iommufd">/dev/iommu, the VFIO cdevs and the kernel configuration; null when not read (no rule uses them then).</param>
public sealed record PreflightFacts(
    TargetLibvirt Libvirt,
    string? KernelRelease,
    (int Major, int Minor)? QemuVersion,
    Func<IReadOnlyList<string>> ProcessesHoldingGpus,
    IReadOnlyList<VfioGroupProbe> VfioProbes,
    IReadOnlySet<PciAddress> BoundByHook,
    int? QemuMicro = null,
    IommufdHostFacts? Iommufd = null);

/// <summary>
/// Everything that must hold before libvirt launches QEMU for a domain with NVLink2 GPUs, as findings that name
/// the domain, the device and the fix. Pure: the caller gathers the facts.
/// </summary>
public static class Nv2Preflight
{
    private static readonly string[] VfioFriendlyDrivers = ["vfio-pci", "pci-stub"];

    /// <summary>The NV2 GPUs and bridges of this host that the domain assigns; empty means "not our business".</summary>
    public static IReadOnlyList<PciHostdev> Nv2Hostdevs(DomainDefinition d, HostTopology host) =>
        [.. d.PciHostdevs().Where(h => !h.FromInterface && host.OwningGpu(h.Source) is not null)];

    public static IReadOnlyList<Finding> Check(DomainDefinition d, HostTopology host, PreflightFacts facts)
    {
        var name = d.Name;
        var findings = new List<Finding>();
        var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
        var bySource = hostdevs.GroupBy(h => h.Source).ToDictionary(g => g.Key, g => g.First());
        var gpus = hostdevs.Select(h => host.OwningGpu(h.Source)).OfType<NvGpu>().DistinctBy(g => g.Address).OrderBy(g => g.Address).ToList();
        if (gpus.Count == 0) return findings;

        if (!d.IsPseries)
        {
            findings.Add(Error("not-pseries", gpus[0].Address, $"Domain '{name}' assigns NVLink2 GPU {gpus[0].Address} but is not a ppc64 pseries guest; only pseries can use NVLink2."));
        }

        CheckCompleteness(name, gpus, bySource, host, findings);
        CheckPlacement(d, gpus, host, findings);
        CheckGroups(name, gpus, bySource, host, facts, findings);
        CheckGpuState(name, gpus, bySource, facts, findings);
        CheckMemlock(d, host, facts, findings);
        CheckPlatform(d, facts, findings);
        foreach (var probe in facts.VfioProbes)
        {
            findings.AddRange(VfioNv2Checks.Check(name, probe, host));
        }
        return findings;
    }

    private static void CheckCompleteness(string name, List<NvGpu> gpus, Dictionary<PciAddress, PciHostdev> bySource, HostTopology host, List<Finding> findings)
    {
        foreach (var gpu in gpus)
        {
            if (!bySource.ContainsKey(gpu.Address))
            {
                findings.Add(Warning("bridge-without-gpu", gpu.Address,
                    $"Domain '{name}' assigns NVLink2 bridge(s) of GPU {gpu.Address} but not the GPU; the links are useless without it."));
                continue;
            }
            var missing = gpu.Bridges.Where(b => !bySource.ContainsKey(b)).ToList();
            if (missing.Count > 0 || !gpu.HasAllBridges)
            {
                var what = missing.Count > 0 ? string.Join(", ", missing) : "(bridges missing from the host's PCI)";
                findings.Add(Error("incomplete-nv2-gpu", gpu.Address,
                    $"Domain '{name}' assigns GPU {gpu.Address} without its NVLink2 bridge(s) {what}: the guest would get no GPU RAM " +
                    $"and no ATS. Complete the definition with 'libvirt-nvlink apply --domain {name}' (or transform and virsh define), then start again."));
            }
        }
    }

    private static void CheckPlacement(DomainDefinition d, List<NvGpu> gpus, HostTopology host, List<Finding> findings)
    {
        var name = d.Name;
        var hostdevs = d.PciHostdevs().Where(h => !h.FromInterface).ToList();
        foreach (var members in gpus.Where(g => g.IommuGroup is not null).GroupBy(g => g.IommuGroup!.Value).OrderBy(g => g.Key))
        {
            var first = members.First().Address;
            foreach (var problem in Nv2Placement.Check(d, host, members.Key, hostdevs))
            {
                switch (problem)
                {
                    case Nv2SplitAcrossPhbs split:
                        findings.Add(Error("split-phb", first,
                            $"Domain '{name}': GPU {string.Join(", ", members.Select(g => g.Address))} and its bridges sit on different guest PHBs (buses {string.Join(", ", split.Placed.Select(p => p.Bus).Distinct().Order().Select(b => "0x" + b.ToString("x2", CultureInfo.InvariantCulture)))}); " +
                            "QEMU pairs them per PHB. Put them on one bus ('libvirt-nvlink transform' explains how) and start again."));
                        break;
                    case Nv2OnDefaultPhb:
                        findings.Add(Error("default-phb", first,
                            $"Domain '{name}': GPU {first} sits on the default PHB (bus 0x00) with the emulated devices; give it a PHB of its own " +
                            "(delete its <address> lines and run 'libvirt-nvlink transform')."));
                        break;
                    case Nv2SharedPhb { OtherGroups.Count: > 0 } shared:
                        findings.Add(Error("phb-mixes-groups", first,
                            $"Domain '{name}': guest PHB bus 0x{shared.Bus:x2} holds devices of host IOMMU groups {string.Join(", ", shared.OtherGroups.Append(shared.Group).Order())}; QEMU's NVLink2 ATSD " +
                            "support needs one IOMMU group per PHB. Move each group to its own pci-root (spapr-pci-host-bridge)."));
                        break;
                }
            }
        }
    }

    private static void CheckGroups(string name, List<NvGpu> gpus, Dictionary<PciAddress, PciHostdev> bySource, HostTopology host, PreflightFacts facts, List<Finding> findings)
    {
        var groups = gpus.Select(g => g.IommuGroup).OfType<int>().Distinct().Order();
        foreach (var group in groups)
        {
            foreach (var member in host.IommuGroupMembers(group))
            {
                var device = host.Devices[member];
                var driver = device.Driver;
                if (driver is null || VfioFriendlyDrivers.Contains(driver) || facts.BoundByHook.Contains(member)) continue;
                if (bySource.TryGetValue(member, out var hd))
                {
                    if (hd.Managed == "yes") continue;
                    findings.Add(Error("host-driver-managed-no", member,
                        $"Domain '{name}': {member} is bound to '{driver}' and its hostdev is managed='no', so libvirt will not rebind it. " +
                        $"Run 'virsh nodedev-detach pci_{member.ToString().Replace(':', '_').Replace('.', '_')}' (or set managed='yes') and start again."));
                }
                else
                {
                    findings.Add(Error("group-not-viable", member,
                        $"Domain '{name}': IOMMU group {group} is not viable: {member} is in it, not assigned to this domain, and bound to '{driver}'. " +
                        "VFIO needs every device of the group on vfio-pci or no driver: detach it (virsh nodedev-detach) or assign it too."));
                }
            }
        }
    }

    private static void CheckGpuState(string name, List<NvGpu> gpus, Dictionary<PciAddress, PciHostdev> bySource, PreflightFacts facts, List<Finding> findings)
    {
        foreach (var gpu in gpus.Where(g => bySource.ContainsKey(g.Address)))
        {
            if (gpu.Memory is { OnlineOnHost: true } m)
            {
                findings.Add(Error("gpu-ram-online", gpu.Address,
                    $"Domain '{name}': the RAM of GPU {gpu.Address} is online on the host (NUMA node {m.NumaNode}), so it cannot be passed through. " +
                    "Stop nvidia-persistenced, unload the nvidia driver, and start again."));
            }
            if (gpu.Driver == "nvidia" && facts.ProcessesHoldingGpus() is { Count: > 0 } holders)
            {
                findings.Add(Error("gpu-held", gpu.Address,
                    $"Domain '{name}': GPU {gpu.Address} is held by host process(es) {string.Join(", ", holders)}; libvirt cannot detach it. " +
                    "Run 'systemctl stop nvidia-persistenced' and start again."));
            }
        }
    }

    private static void CheckMemlock(DomainDefinition d, HostTopology host, PreflightFacts facts, List<Finding> findings)
    {
        var name = d.Name;
        if (!d.IsPpc64 || d.VirtType != "kvm")
        {
            findings.Add(new Finding(Severity.Info, "memlock-not-applicable", name,
                $"Domain '{name}' is type='{d.VirtType}': libvirt's NVLink2 locked-memory formula applies to KVM only; not checked."));
            return;
        }
        var pci = new TopologyPciFacts(host);
        var actual = MemlockCalculator.Calculate(d, pci, facts.Libvirt.Version);
        var required = MemlockCalculator.Nv2Requirement(d, pci, facts.Libvirt.Version);
        if (!actual.Unlimited && actual.Bytes < required.Bytes)
        {
            findings.Add(new Finding(Severity.Error, "memlock-too-low", name,
                $"Domain '{name}': libvirt {facts.Libvirt.Version} will limit QEMU's locked memory to {actual.Bytes} bytes ({actual.Rule}), below the " +
                $"{required.Bytes} bytes NVLink2 needs ({required.Rule}, {required.PhbCount} PHBs); the guest would fail to map GPU RAM. " +
                $"Set <memtune><hard_limit unit='KiB'>{required.Bytes >> 10}</hard_limit> ('libvirt-nvlink transform --memlock write' does it) and start again."));
        }
    }

    private static void CheckPlatform(DomainDefinition d, PreflightFacts facts, List<Finding> findings)
    {
        var name = d.Name;
        if (ParseKernel(facts.KernelRelease) is { } k)
        {
            if (k.CompareTo(VersionThresholds.KernelNv2Removed) >= 0)
            {
                findings.Add(new Finding(Severity.Error, "kernel-without-nvlink2", name,
                    $"Domain '{name}': this host runs Linux {facts.KernelRelease}; Linux {TargetQemu.Show(VersionThresholds.KernelNv2Removed)} removed vfio_pci_nvlink2, so NVLink2 GPUs cannot be passed " +
                    "through with their RAM. Boot a 5.0–5.12 kernel (or a distribution kernel that carries the driver, e.g. RHEL 8)."));
            }
        }
        else
        {
            findings.Add(new Finding(Severity.Info, "kernel-unknown", name, $"Domain '{name}': the kernel release could not be read; NVLink2 support not checked."));
        }
        if (facts.QemuVersion is { } q)
        {
            if (q.CompareTo(VersionThresholds.QemuNv2Removed) >= 0)
            {
                findings.Add(new Finding(Severity.Error, "qemu-without-nvlink2", name,
                    $"Domain '{name}': QEMU {q.Major}.{q.Minor} removed spapr NVLink2 support ({TargetQemu.Show(VersionThresholds.QemuNv2Removed)}); use QEMU 4.1–8.1 for NVLink2 guests."));
            }
        }
        else
        {
            findings.Add(new Finding(Severity.Info, "qemu-unknown", name, $"Domain '{name}': the QEMU version is not in libvirt's capability cache; NVLink2 support of QEMU not checked."));
        }
        if (d.Machine is { } m && m.StartsWith("pseries-", StringComparison.Ordinal) &&
            Version.TryParse(m["pseries-".Length..].Split('-')[0], out var mv) && mv < VersionThresholds.PseriesNv2Machine)
        {
            findings.Add(new Finding(Severity.Error, "machine-too-old", name,
                $"Domain '{name}': machine type {m} predates NVLink2 (pseries-4.1); use machine='pseries' or pseries-4.1 or later."));
        }
    }

    public static (int Major, int Minor)? ParseKernel(string? release)
    {
        if (string.IsNullOrWhiteSpace(release)) return null;
        var parts = release.Trim().Split('.', '-');
        return parts.Length >= 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a) &&
               int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b)
            ? (a, b)
            : null;
    }

    private static Finding Error(string code, PciAddress device, string message) => new(Severity.Error, code, device.ToString(), message);

    private static Finding Warning(string code, PciAddress device, string message) => new(Severity.Warning, code, device.ToString(), message);

    /// <summary>The one short paragraph libvirt appends to the user's error.</summary>
    public static string RefusalParagraph(string domain, IReadOnlyList<Finding> errors)
    {
        var first = errors.Take(2).Select(e => e.Message);
        var more = errors.Count > 2 ? $" ({errors.Count - 2} more problem(s): run 'libvirt-nvlink check --domain {domain}'.)" : "";
        return $"libvirt-nvlink refused to start '{domain}': {string.Join(" ", first)}{more}";
    }
}
