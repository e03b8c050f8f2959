using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Preflight;

/// <summary>
/// The iommufd, nested-SMMUv3 and expander-layout half of <see cref="GracePreflight"/>: what the guest layout in the
/// XML (<see cref="GuestPciLayout"/>) needs from this host, and whether it mirrors the host's SMMU grouping.
/// Sources: QEMU's hw/arm/smmuv3-accel.c (an accel=on vSMMU takes only iommufd-backed vfio-pci endpoints, and its one
/// vIOMMU object is allocated on the first device's physical SMMU); the kernel's iommufd (a vDEVICE is refused on a
/// vIOMMU of another physical SMMU; several vIOMMUs on one physical SMMU are allowed, each its own VMID and, with
/// CMDQV, its own VINTF); libvirt 12.x, which opens /dev/iommu and /dev/vfio/devices/vfioN for an iommufd hostdev.
/// </summary>
public static class GraceIommuPreflight
{
    public static void Check(DomainDefinition d, IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> assigned, PreflightFacts facts, List<Finding> findings)
    {
        var layout = GuestPciLayout.Read(d);
        var name = d.Name;
        var config = facts.Iommufd?.KernelConfig;
        var configNote = config is null ? "" : $" ({config.Source}: CONFIG_IOMMUFD={config.Value("IOMMUFD") ?? "not set"}, CONFIG_VFIO_DEVICE_CDEV={config.Value("VFIO_DEVICE_CDEV") ?? "not set"})";

        // iommufd: libvirt opens /dev/iommu and each device's VFIO cdev and hands QEMU the descriptors.
        var viaIommufd = assigned.Where(a => layout.UsesIommufd(a.Hostdev)).ToList();
        if (facts.Iommufd is { } io && viaIommufd.Count > 0)
        {
            if (!io.HasDevIommu)
            {
                findings.Add(Error("grace-iommufd-missing", viaIommufd[0].Gpu.Address,
                    $"Domain '{name}' gives GPU(s) {string.Join(", ", viaIommufd.Select(a => a.Gpu.Address))} to QEMU through iommufd " +
                    $"(<driver iommufd='yes'/> or <iommufd enabled='yes'/>), but this host has no /dev/iommu{configNote}. Load it: 'modprobe iommufd' " +
                    "(a kernel built with CONFIG_IOMMUFD, Linux 6.2 or newer), or use the legacy VFIO form: <driver iommufd='no'/>, without an accelerated vSMMU."));
            }
            foreach (var (_, gpu) in viaIommufd)
            {
                if (io.VfioCdevs.ContainsKey(gpu.Address)) continue;
                // A GPU not yet on a VFIO driver gets its cdev when libvirt or the hook binds it; only the kernel's
                // configuration can tell in advance that it never will.
                var onVfio = gpu.HasVariantDriver || gpu.Driver == "vfio-pci";
                var configLacksCdev = config is not null && config.Value("VFIO_DEVICE_CDEV") is null;
                if (!onVfio && !configLacksCdev) continue;
                findings.Add(Error("grace-vfio-cdev-missing", gpu.Address,
                    $"Domain '{name}' gives GPU {gpu.Address} to QEMU through iommufd, but the GPU has no VFIO device node (no vfio-dev/vfioN " +
                    $"under /sys/bus/pci/devices/{gpu.Address}, no /dev/vfio/devices/vfioN){configNote}: libvirt opens that node for an iommufd hostdev. " +
                    "Boot a kernel built with CONFIG_VFIO_DEVICE_CDEV=y (Linux 6.6 or newer), or use the legacy VFIO form: <driver iommufd='no'/>."));
            }
        }

        var byExpander = assigned.GroupBy(a => layout.ExpanderOf(a.Hostdev.GuestAddress)?.Index).ToList();
        var accelSmmus = new List<(GuestPciBus Expander, GuestSmmuV3 Smmu, List<(PciHostdev Hostdev, GraceGpu Gpu)> Gpus)>();
        foreach (var group in byExpander)
        {
            if (group.Key is not { } index) continue;
            var expander = layout.Buses[index];
            CheckExpanderNode(d, expander, group.Select(a => a.Gpu).ToList(), findings);
            if (layout.SmmuOn(expander) is { Accel: true } smmu) accelSmmus.Add((expander, smmu, group.ToList()));
        }

        foreach (var (expander, smmu, gpus) in accelSmmus)
        {
            var bus = expander.Index;
            foreach (var (hostdev, gpu) in gpus.Where(a => !layout.UsesIommufd(a.Hostdev)))
            {
                findings.Add(Error("grace-vsmmu-needs-iommufd", gpu.Address,
                    $"Domain '{name}': GPU {gpu.Address} sits under the accelerated vSMMU of expander bus {bus} (<iommu model='smmuv3'><driver pciBus='{bus}' accel='on'/>) " +
                    $"without iommufd{((string?)hostdev.DriverElement?.Attribute("iommufd") == "no" ? " (<driver iommufd='no'/>)" : "")}; QEMU refuses it ('vfio-pci endpoint devices " +
                    "without an iommufd backend not allowed when using arm-smmuv3,accel=on'). Add <driver iommufd='yes'/> to the hostdev or <iommufd enabled='yes'/> to the domain."));
            }
            var smmus = gpus.Select(a => a.Gpu.Smmu).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (smmus.Count > 1)
            {
                var per = string.Join("; ", smmus.Select(s => $"{s}: {string.Join(", ", gpus.Where(a => a.Gpu.Smmu == s).Select(a => a.Gpu.Address))}"));
                findings.Add(Error("grace-vsmmu-spans-smmus", gpus[0].Gpu.Address,
                    $"Domain '{name}': the accelerated vSMMU of expander bus {bus} holds GPUs behind {smmus.Count} host SMMUs ({per}); an accelerated vSMMU " +
                    "is one iommufd vIOMMU on one physical SMMU, and the kernel refuses a device of another SMMU on it, so QEMU fails to start. " +
                    "Give each host SMMU its own pcie-expander-bus with its own <iommu model='smmuv3'> ('libvirt-nvlink topology' lists which GPUs share one)."));
            }
        }
        CheckSplitSmmus(name, accelSmmus.SelectMany(x => x.Gpus.Select(a => (x.Expander.Index, a.Gpu))).ToList(), findings);

        if (accelSmmus.Count > 0) CheckKernel(d, accelSmmus.Select(x => x.Smmu).ToList(), accelSmmus[0].Gpus[0].Gpu.Address, facts, findings);
    }

    /// <summary>Several accelerated vSMMUs on one physical SMMU work (one vIOMMU each) but cost a VMID, and a VINTF with CMDQV, apiece.</summary>
    private static void CheckSplitSmmus(string name, List<(int Expander, GraceGpu Gpu)> placed, List<Finding> findings)
    {
        foreach (var group in placed.Where(p => p.Gpu.Smmu is not null).GroupBy(p => p.Gpu.Smmu!, StringComparer.Ordinal))
        {
            var expanders = group.Select(p => p.Expander).Distinct().Order().ToList();
            if (expanders.Count < 2) continue;
            findings.Add(new Finding(Severity.Warning, "grace-smmu-split-across-vsmmus", string.Join(",", group.Select(p => p.Gpu.Address)),
                $"Domain '{name}': GPUs {string.Join(", ", group.Select(p => p.Gpu.Address))} share host SMMU {group.Key} but sit under the accelerated vSMMUs " +
                $"of {expanders.Count} expander buses ({string.Join(", ", expanders)}). It works — each vSMMU gets its own vIOMMU on the same SMMU — but costs a " +
                "VMID and, with cmdqv, a command-queue interface apiece, and the guest sees one SMMU split in parts. Put them on root ports of one expander under one vSMMU."));
        }
    }

    /// <summary>The expander's NUMA cell should be the guest cell standing for the GPU's CPU node.</summary>
    private static void CheckExpanderNode(DomainDefinition d, GuestPciBus expander, List<GraceGpu> gpus, List<Finding> findings)
    {
        foreach (var gpu in gpus)
        {
            if (gpu.NumaNode is not { } hostNode) continue;
            var cells = GuestNumaCells.StandingFor(d, hostNode);
            if (cells.Count == 0 || (expander.NumaNode is { } n && cells.Contains(n))) continue;
            findings.Add(new Finding(Severity.Warning, "grace-expander-node-mismatch", gpu.Address.ToString(),
                $"Domain '{d.Name}': GPU {gpu.Address} sits under expander bus {expander.Index}, whose NUMA node is " +
                $"{(expander.NumaNode is { } m ? $"guest cell {m}" : "unset")}, but the GPU's CPU node {hostNode} is guest cell(s) {Nodeset.Format(cells)}: " +
                $"the guest kernel then reports the GPU on another node than its CPUs and memory, and what its driver allocates near the GPU lands remote. " +
                $"Set <target><node>{cells[0]}</node></target> on that controller."));
        }
    }

    /// <summary>Nested SMMUv3 (and CMDQV) in the host kernel: its configuration when readable, else its release.</summary>
    private static void CheckKernel(DomainDefinition d, List<GuestSmmuV3> smmus, PciAddress at, PreflightFacts facts, List<Finding> findings)
    {
        var config = facts.Iommufd?.KernelConfig;
        if (Lacks(facts, "ARM_SMMU_V3_IOMMUFD", VersionThresholds.KernelNestedSmmuV3) is { } nested)
        {
            findings.Add(Error("grace-kernel-no-nested-smmu", at,
                $"Domain '{d.Name}' asks for an accelerated (nested) SMMUv3 (<iommu model='smmuv3'><driver accel='on'/>), but " +
                (config is not null ? $"this kernel is built without CONFIG_ARM_SMMU_V3_IOMMUFD ({config.Source})" : $"Linux {facts.KernelRelease} predates nested SMMUv3 through iommufd ({nested})") +
                $", so QEMU cannot allocate the vIOMMU and the domain fails to start. Boot Linux {nested} or newer built with CONFIG_ARM_SMMU_V3_IOMMUFD=y, or drop accel='on'."));
        }
        if (smmus.Any(s => s.CmdqvOn) && Lacks(facts, "TEGRA241_CMDQV", VersionThresholds.KernelTegra241GuestCmdqv) is { } cmdqv)
        {
            findings.Add(Error("grace-kernel-no-cmdqv", at,
                $"Domain '{d.Name}' asks for cmdqv='on' on its vSMMU, but " +
                (config is not null ? $"this kernel is built without CONFIG_TEGRA241_CMDQV ({config.Source})" : $"Linux {facts.KernelRelease} predates guest command queues on Grace's CMDQV ({cmdqv})") +
                $". Boot Linux {cmdqv} or newer built with CONFIG_TEGRA241_CMDQV=y, or set cmdqv='off'."));
        }
    }

    /// <summary>
    /// The release that brought a kernel feature ("6.13"), when this kernel lacks it: CONFIG_<paramref name="option"/>
    /// built in or as a module when the configuration is readable, else a release from <paramref name="since"/> on;
    /// null when it has it or nothing tells.
    /// </summary>
    private static string? Lacks(PreflightFacts facts, string option, (int Major, int Minor) since)
    {
        return KernelConfig.Has(facts.Iommufd?.KernelConfig, facts.KernelRelease, option, since) == false ? $"{since.Major}.{since.Minor}" : null;
    }

    private static Finding Error(string code, PciAddress device, string message) => new(Severity.Error, code, device.ToString(), message);
}
