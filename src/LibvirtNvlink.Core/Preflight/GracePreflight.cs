using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Preflight;

/// <summary>
/// What must hold before libvirt launches QEMU for a domain with Grace GPUs: the variant driver bound (or bound by
/// the hook, or by libvirt 10.0+ through the driver model), the host driver out of the way, the guest's
/// generic-initiator nodes matching the host's, and a libvirt/QEMU/kernel that can do it. Pure, like
/// <see cref="Nv2Preflight"/>, and refused with the same paragraph.
/// </summary>
public static class GracePreflight
{
    /// <summary>Host findings that make a Grace GPU unusable in a guest, reported again for the domain that assigns it.</summary>
    private static readonly string[] BlockingHostFindings =
        ["grace-no-gi-nodes", "grace-gi-nodes-ambiguous", "grace-kernel-too-old", "grace-variant-driver-missing", "grace-variant-probe-failed", "grace-gi-nodes-undecidable"];

    public static IReadOnlyList<Finding> Check(DomainDefinition d, HostTopology host, PreflightFacts facts)
    {
        var findings = new List<Finding>();
        var assigned = GraceAssignment.AssignedGraceGpus(d, host);
        if (assigned.Count == 0) return findings;
        var name = d.Name;
        if (!d.IsAarch64 || d.Machine is not { } m || !m.StartsWith("virt", StringComparison.Ordinal))
        {
            findings.Add(Error("grace-not-virt", assigned[0].Gpu.Address,
                $"Domain '{name}' assigns Grace GPU {assigned[0].Gpu.Address} but is arch='{d.Arch}' machine='{d.Machine}'; Grace passthrough needs an aarch64 virt guest."));
        }
        foreach (var f in host.Findings.Where(f => BlockingHostFindings.Contains(f.Code) && assigned.Any(a => f.Device.Contains(a.Gpu.Address.ToString(), StringComparison.Ordinal))))
        {
            findings.Add(f with { Message = $"Domain '{name}': {f.Message}" });
        }
        foreach (var (hostdev, gpu) in assigned)
        {
            CheckDriver(name, hostdev, gpu, facts, findings);
            CheckGiNodes(d, hostdev, gpu, facts, findings);
        }
        CheckQemu(d, assigned, facts, findings);
        GraceIommuPreflight.Check(d, assigned, facts, findings);
        return findings;
    }

    private static void CheckDriver(string name, PciHostdev hostdev, GraceGpu gpu, PreflightFacts facts, List<Finding> findings)
    {
        var at = gpu.Address;
        // libvirt's default for <hostdev> is managed='no'.
        var managed = hostdev.Managed == "yes";
        var libvirtPicksModel = facts.Libvirt.Version >= VersionThresholds.LibvirtDriverModel &&
                                hostdev.DriverElement?.Attribute("model")?.Value == GraceGpu.VariantDriver;
        if (managed && facts.Libvirt.Version < VersionThresholds.LibvirtDriverModel)
        {
            findings.Add(Error("grace-managed-old-libvirt", at,
                $"Domain '{name}': libvirt {facts.Libvirt.Version} rebinds managed GPU {at} to plain vfio-pci, which hides its coherent memory. " +
                $"Set managed='no' on the hostdev and bind {GraceGpu.VariantDriver} (or enable bind-managed-no), or use libvirt {VersionThresholds.LibvirtDriverModel} or newer."));
            return;
        }
        if (gpu.Driver == "nvidia")
        {
            if (facts.ProcessesHoldingGpus() is { Count: > 0 } holders)
            {
                findings.Add(Error("grace-gpu-in-use", at,
                    $"Domain '{name}': GPU {at} is on the host's nvidia driver and {string.Join(", ", holders)} keep(s) GPUs open; " +
                    "stop them (systemctl stop nvidia-persistenced) so the GPU can be handed over."));
            }
            else if (!managed)
            {
                findings.Add(Error("grace-held-by-host-driver", at,
                    $"Domain '{name}': GPU {at} is bound to the host's nvidia driver and the hostdev is managed='no'. " +
                    $"Hand it over first: 'driverctl set-override {at} {GraceGpu.VariantDriver}'."));
            }
            return;
        }
        if (gpu.HasVariantDriver)
        {
            CheckDeviceMemory(name, gpu, facts, findings);
            return;
        }
        // The host finding says why the variant driver refused it; binding again would not help.
        if (gpu.VariantProbeFailed) return;
        if (facts.BoundByHook.Contains(at) || (managed && libvirtPicksModel)) return;
        findings.Add(Error("grace-variant-driver-not-bound", at,
            $"Domain '{name}': GPU {at} is bound to {gpu.Driver ?? "no driver"}, not {GraceGpu.VariantDriver}, so the guest would get it without its " +
            $"coherent memory. {(managed ? $"Add <driver model='{GraceGpu.VariantDriver}'/> to the hostdev (libvirt-nvlink transform does)" : $"Run 'driverctl set-override {at} {GraceGpu.VariantDriver}' or enable bind-managed-no")}, then start again."));
    }

    /// <summary>The variant driver fell back to its core ops (no device memory): the guest would get a GPU without its memory.</summary>
    private static void CheckDeviceMemory(string name, GraceGpu gpu, PreflightFacts facts, List<Finding> findings)
    {
        var at = gpu.Address.ToString();
        if (facts.VfioProbes.SelectMany(p => p.Devices).FirstOrDefault(v => v.Device == at) is not { } regions || GraceGpu.ExposesDeviceMemory(regions) is not false) return;
        findings.Add(Error("grace-gpu-memory-missing", gpu.Address,
            $"Domain '{name}': {gpu.Model} GPU {at} is on {GraceGpu.VariantDriver}, but VFIO shows no device-memory BAR (BAR{GraceGpu.UsememBar} is " +
            $"{regions.BarRegions[GraceGpu.UsememBar].Size} bytes, without the mappable GPU memory the driver exposes there). The firmware reported no usable " +
            "GPU memory, as it does when the CPU-GPU C2C link is down, so the driver took the GPU without its memory and a guest would get it without " +
            "its memory too. Check the C2C link ('dmesg | grep -i nvgrace', the BMC's health log), reset or power-cycle the superchip, then rebind: " +
            $"'echo {at} > /sys/bus/pci/drivers/{GraceGpu.VariantDriver}/unbind; echo {at} > /sys/bus/pci/drivers/{GraceGpu.VariantDriver}/bind'."));
    }

    private static void CheckGiNodes(DomainDefinition d, PciHostdev hostdev, GraceGpu gpu, PreflightFacts facts, List<Finding> findings)
    {
        var at = gpu.Address;
        var guestNodes = GuestGiNodes(d, hostdev);
        var fix = $"Complete the definition with 'libvirt-nvlink apply --domain {d.Name}' (or transform and virsh define), then start again.";
        if (guestNodes.Count == 0)
        {
            findings.Add(Error("grace-gi-nodes-missing", at,
                $"Domain '{d.Name}' assigns {gpu.Model} GPU {at} without its {gpu.GiNodes.Count} memory-less NUMA node(s): the guest driver " +
                $"cannot online the GPU memory and MIG will not work. {fix}"));
            return;
        }
        if (guestNodes.Count != gpu.GiNodes.Count)
        {
            findings.Add(Error("grace-gi-nodes-mismatch", at,
                $"Domain '{d.Name}' ties {guestNodes.Count} guest NUMA node(s) to GPU {at} but the host has {gpu.GiNodes.Count} " +
                $"({Nodeset.Format(gpu.GiNodes)}). {fix}"));
        }
        if (hostdev.Element.Element("acpi")?.Attribute("nodeset") is not null && facts.Libvirt.Version < VersionThresholds.LibvirtAcpiNodeset)
        {
            findings.Add(Error("grace-acpi-needs-newer-libvirt", at,
                $"Domain '{d.Name}' uses <acpi nodeset> on GPU {at}, which libvirt {facts.Libvirt.Version} does not know (libvirt {VersionThresholds.LibvirtAcpiNodeset}). " +
                "Transform the domain for this libvirt: 'libvirt-nvlink transform --undo', then transform again."));
        }
    }

    /// <summary>The guest nodes tied to a GPU: &lt;acpi nodeset&gt;, or acpi-generic-initiator objects naming its alias.</summary>
    public static IReadOnlyList<int> GuestGiNodes(DomainDefinition d, PciHostdev hostdev)
    {
        // An acpi nodeset libvirt cannot parse gives no nodes here, which the node-count check reports with the element.
        if (hostdev.Element.Element("acpi")?.Attribute("nodeset") is { } nodeset) return Nodeset.TryParse(nodeset.Value, out var acpiNodes, out _) ? acpiNodes : [];
        var alias = (string?)hostdev.Element.Element("alias")?.Attribute("name");
        if (alias is null) return [];
        var nodes = new List<int>();
        foreach (var arg in QemuCommandLine.QemuArgs(d))
        {
            if (!arg.StartsWith("acpi-generic-initiator,", StringComparison.Ordinal)) continue;
            var props = arg.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            if (props.GetValueOrDefault("pci-dev") == alias &&
                int.TryParse(props.GetValueOrDefault("node"), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) nodes.Add(n);
        }
        return nodes;
    }

    private static void CheckQemu(DomainDefinition d, IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> assigned, PreflightFacts facts, List<Finding> findings)
    {
        var first = assigned[0].Gpu.Address;
        if (facts.QemuVersion is { } q && q.CompareTo(VersionThresholds.QemuGenericInitiator) < 0)
        {
            findings.Add(Error("grace-qemu-too-old", first,
                $"Domain '{d.Name}': QEMU {TargetQemu.Show(q)} ({d.Emulator}) has no acpi-generic-initiator object, so Grace GPU(s) " +
                $"{string.Join(", ", assigned.Select(a => a.Gpu.Address))} cannot get their NUMA nodes. Install QEMU {TargetQemu.Show(VersionThresholds.QemuGenericInitiator)} or newer."));
        }
        if (facts.QemuVersion is { } v && TargetQemu.SwapsGiDeviceHandle(v, facts.QemuMicro) is not false)
        {
            var release = facts.QemuMicro is { } micro ? $"{TargetQemu.Show(v)}.{micro}" : $"{TargetQemu.Show(v)} (micro release unknown)";
            findings.Add(new Finding(Severity.Warning, "grace-qemu-gi-device-handle", first.ToString(),
                $"Domain '{d.Name}': QEMU {release} ({d.Emulator}) writes the PCI device handle of each generic-initiator entry in the guest's SRAT " +
                $"with bus and device/function swapped, so the guest kernel ties the memory-less nodes of GPU(s) {string.Join(", ", assigned.Select(a => a.Gpu.Address))} " +
                $"to another device or none (NVIDIA's guest driver still finds them through a workaround it says it will drop). Install QEMU {TargetQemu.Show(VersionThresholds.QemuGiDeviceHandleFixed)} or newer " +
                "(upstream commit 16c687d8, 'hw/acpi: Fix ordering of BDF in Generic Initiator PCI Device Handle')."));
        }
        // What QEMU will map is what VFIO hands it; sysfs 'resource' does not show the BARs nvgrace-gpu emulates.
        var fromVfio = false;
        var gpus = assigned.Select(a =>
        {
            var sizes = facts.VfioProbes.SelectMany(p => p.Devices).FirstOrDefault(v => v.Device == a.Gpu.Address.ToString())?.BarSizes ?? [];
            fromVfio |= sizes.Count > 0;
            return a.Gpu.WithEmulatedBars(sizes);
        }).ToList();
        var window = GraceAssignment.MmioWindowFor(gpus);
        var source = fromVfio ? "as VFIO reports them" : "as sysfs shows them";
        var (verdict, problem) = HighmemMmioWindow.Assess(d, window, source);
        switch (verdict)
        {
            case HighmemMmioVerdict.Missing or HighmemMmioVerdict.TooSmall:
                findings.Add(new Finding(Severity.Warning, "grace-mmio-window-small", first.ToString(), $"Domain '{d.Name}': {problem}"));
                break;
            case HighmemMmioVerdict.Invalid:
                findings.Add(Error("grace-mmio-window-invalid", first, $"Domain '{d.Name}': {problem}"));
                break;
        }
    }

    private static Finding Error(string code, PciAddress device, string message) => new(Severity.Error, code, device.ToString(), message);
}
