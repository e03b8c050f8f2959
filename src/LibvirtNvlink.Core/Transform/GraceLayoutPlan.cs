using LibvirtNvlink.Domain;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Transform;

/// <summary>
/// What a Grace transform lays out, decided once from --grace-layout, the target libvirt and QEMU, the host and the
/// domain itself: the expander layout or the flat one, iommufd for the GPU hostdevs, an accelerated SMMUv3 per
/// expander, and which of the SMMU's options the targets know. <see cref="Notes"/> say why for every part left out.
/// </summary>
/// <param name="Expander">pcie-expander-bus + pcie-root-port per GPU; false: the flat layout of libvirt's own placement.</param>
/// <param name="Iommufd">&lt;driver iommufd='yes'/&gt; on the GPU hostdevs (libvirt opens /dev/iommu and the VFIO cdev).</param>
/// <param name="Vsmmu">One &lt;iommu model='smmuv3'&gt; with accel='on' per expander.</param>
/// <param name="Cmdqv">The SMMU's cmdqv value to write ("on"/"off"), or null where the targets do not know it.</param>
public sealed record GraceLayoutPlan(bool Expander, bool Iommufd, bool Vsmmu, string? Cmdqv, IReadOnlyList<string> Notes)
{
    /// <summary>
    /// The accelerated SMMU's options every production stack writes for Grace (KubeVirt's converter, Red Hat's tp-libvirt
    /// Grace configs, Kata's Grace layouts): ATS on, range invalidation off, 20 substream-ID bits, 48-bit output addresses.
    /// </summary>
    public static IReadOnlyList<(string Name, string Value)> SmmuOptions { get; } = [("accel", "on"), ("ats", "on"), ("ril", "off"), ("ssidsize", "20"), ("oas", "48")];

    public static GraceLayoutPlan Decide(GracePciLayout request, DomainDefinition d, IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> assigned, TargetLibvirt libvirt, TargetQemu qemu, GraceHostSupport host)
    {
        var gpus = assigned.Select(a => a.Gpu).ToList();
        if (request == GracePciLayout.Flat) return new(false, false, false, null, []);
        var lv = libvirt.Version;
        // iommufd: libvirt's per-hostdev form, QEMU's iommufd object, /dev/iommu, and no opt-out in the domain.
        var iommufdWhyNot = new List<string>();
        if (lv < VersionThresholds.LibvirtHostdevIommufd) iommufdWhyNot.Add($"libvirt {lv} ({libvirt.Source}) has no <driver iommufd> (libvirt {VersionThresholds.LibvirtHostdevIommufd})");
        if (!Known(qemu, VersionThresholds.QemuIommufd)) iommufdWhyNot.Add($"QEMU {qemu} {(qemu.IsKnown ? "has no iommufd backend" : "may lack the iommufd backend")} (QEMU {TargetQemu.Show(VersionThresholds.QemuIommufd)})");
        if (host.Iommufd != true) iommufdWhyNot.Add(host.Iommufd is null ? "whether the host has /dev/iommu is not known" : "the host has no /dev/iommu (load the iommufd module: CONFIG_IOMMUFD)");
        if (OptsOutOfIommufd(d, assigned) is { } optOut) iommufdWhyNot.Add(optOut);

        var vsmmuWhyNot = new List<string>(iommufdWhyNot.Count > 0 ? ["the GPUs will not use iommufd, which the accelerated SMMUv3 needs"] : []);
        if (lv < VersionThresholds.LibvirtSmmuv3Accel) vsmmuWhyNot.Add($"libvirt {lv} ({libvirt.Source}) has no accelerated SMMUv3 (<driver accel>, libvirt {VersionThresholds.LibvirtSmmuv3Accel})");
        if (!Known(qemu, VersionThresholds.QemuSmmuv3Accel)) vsmmuWhyNot.Add($"QEMU {qemu} {(qemu.IsKnown ? "has no" : "may lack the")} accelerated arm-smmuv3 (QEMU {TargetQemu.Show(VersionThresholds.QemuSmmuv3Accel)})");
        if (host.NestedSmmuv3 != true) vsmmuWhyNot.Add(host.NestedSmmuv3 is null ? "whether the host kernel gives SMMUv3 nested translation to guests is not known" : "the host kernel has no nested SMMUv3 for guests (CONFIG_ARM_SMMU_V3_IOMMUFD)");
        if (gpus.Where(g => g.Smmu is null).Select(g => g.Address.ToString()).ToList() is { Count: > 0 } noSmmu)
        {
            vsmmuWhyNot.Add($"the host SMMU of GPU {string.Join(", ", noSmmu)} is not known (no iommu link to an smmu3 instance)");
        }
        if (d.Devices?.Elements("iommu").Any(i => (string?)i.Attribute("model") != "smmuv3" || i.Element("driver")?.Attribute("pciBus") is null) == true)
        {
            vsmmuWhyNot.Add("the domain has an <iommu> that is not a pluggable SMMUv3 (<driver pciBus>), and libvirt allows several IOMMUs only of that kind");
        }

        if (request == GracePciLayout.Auto && (iommufdWhyNot.Count > 0 || vsmmuWhyNot.Count > 0))
        {
            var why = iommufdWhyNot.Concat(vsmmuWhyNot.Skip(iommufdWhyNot.Count > 0 ? 1 : 0)).Distinct();
            return new(false, false, false, null, [$"kept the flat Grace layout (the GPUs on the default pcie-root): {string.Join("; ", why)}. --grace-layout expander asks for the expanders anyway."]);
        }
        var notes = new List<string>();
        if (iommufdWhyNot.Count > 0) notes.Add($"the GPUs keep legacy VFIO groups: {string.Join("; ", iommufdWhyNot)}");
        if (vsmmuWhyNot.Count > 0) notes.Add($"no virtual SMMU on the expanders: {string.Join("; ", vsmmuWhyNot)}");
        string? cmdqv = null;
        if (vsmmuWhyNot.Count == 0 && qemu.Version is { } q && q.CompareTo(VersionThresholds.QemuSmmuv3Cmdqv) >= 0)
        {
            // vCMDQ queues live in guest memory that must stay put and contiguous: every stack that turns it on
            // (tp-libvirt's cmdqv configs, Kata's vCMDQ layout) backs the guest with shared, preallocated huge pages.
            cmdqv = CmdqvMemory(d) ? "on" : "off";
        }
        return new(true, iommufdWhyNot.Count == 0, vsmmuWhyNot.Count == 0, cmdqv, notes);
    }

    /// <summary>Known to be at least the version; unknown is not enough for a layout that fails the boot when wrong.</summary>
    private static bool Known(TargetQemu qemu, (int Major, int Minor) needed) => qemu.Version is { } v && v.CompareTo(needed) >= 0;

    private static string? OptsOutOfIommufd(DomainDefinition d, IReadOnlyList<(PciHostdev Hostdev, GraceGpu Gpu)> assigned)
    {
        if (d.Root.Element("iommufd") is { } e && (string?)e.Attribute("enabled") == "no") return "the domain says <iommufd enabled='no'/>";
        var no = assigned.Where(a => (string?)a.Hostdev.DriverElement?.Attribute("iommufd") == "no").Select(a => a.Gpu.Address.ToString()).ToList();
        return no.Count > 0 ? $"GPU {string.Join(", ", no)} says <driver iommufd='no'/>" : null;
    }

    private static bool CmdqvMemory(DomainDefinition d)
    {
        var backing = d.Root.Element("memoryBacking");
        return backing?.Element("hugepages") is not null && (string?)backing.Element("access")?.Attribute("mode") == "shared";
    }
}
