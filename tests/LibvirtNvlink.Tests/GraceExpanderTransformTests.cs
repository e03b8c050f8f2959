using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// When the transform lays Grace GPUs out on expanders, and when it keeps them flat: `auto` takes the expander layout
/// exactly where the targets and the host support all of it, and the outputs pass the preflight of the host they were
/// made for.
/// </summary>
public sealed class GraceExpanderTransformTests : IDisposable
{
    private readonly TempDirectory _dir = new("lvn-expander-");

    public void Dispose() => _dir.Dispose();

    private static TransformOptions New(GracePciLayout layout = GracePciLayout.Auto, (int, int)? qemu = null, string libvirt = "12.8.0") =>
        new(MemlockMode.Never, new TargetLibvirt(LibvirtVersion.TryParse(libvirt, out var v) ? v : throw new ArgumentException(libvirt), TargetLibvirt.FromOption),
            new TargetQemu(qemu ?? (11, 1), TargetQemu.FromOption), layout);

    private static string TwoGpus => GoldenCase.Named("grace-gb200-shared-smmu-expander-libvirt-12.8").Input;

    /// <summary>The GB200 tray with the kernel given, discovered as the transform sees it.</summary>
    private (HostTopology Host, HostRoot Root) Tray(GraceKernelLayout? kernel = null)
    {
        var layout = BuiltInLayouts.GraceBlackwell4Gpu with { Grace = BuiltInLayouts.GraceBlackwell4Gpu.Grace! with { Kernel = kernel } };
        var dir = _dir[Guid.NewGuid().ToString("N")];
        SimulatedHostWriter.Write(layout, dir);
        var root = new HostRoot(dir);
        return (HostDiscovery.Discover(root), root);
    }

    public static TheoryData<string> ExpanderOutputs() =>
    [
        .. GoldenCase.All().Where(c => File.ReadAllText(c.OutputPath).Contains("<lvn:grace-expander", StringComparison.Ordinal)).Select(c => c.Name),
    ];

    [Theory]
    [MemberData(nameof(ExpanderOutputs))]
    public void Every_expander_output_mirrors_its_hosts_SMMU_grouping_for_the_preflight(string name)
    {
        var c = GoldenCase.Named(name);
        var dir = _dir[name];
        SimulatedHostWriter.Write(c.Layout, dir);
        var root = new HostRoot(dir);
        var host = HostDiscovery.Discover(root);
        var d = DomainDefinition.Parse(File.ReadAllText(c.OutputPath));
        var release = PlatformReader.KernelRelease(root);
        var facts = new PreflightFacts(new TargetLibvirt(c.Libvirt, TargetLibvirt.FromOption), release, c.Qemu, () => [], [], new HashSet<Pci.PciAddress>(), 3,
            PreflightFactsReader.ReadIommufd(root, release, d.PciHostdevs().Select(h => h.Source)));
        string[] layoutCodes = ["grace-iommufd-missing", "grace-vfio-cdev-missing", "grace-vsmmu-needs-iommufd", "grace-kernel-no-nested-smmu",
            "grace-vsmmu-spans-smmus", "grace-smmu-split-across-vsmmus", "grace-expander-node-mismatch"];
        Assert.DoesNotContain(GracePreflight.Check(d, host, facts), f => layoutCodes.Contains(f.Code));
    }

    [Fact]
    public void Auto_takes_the_expander_layout_where_libvirt_QEMU_and_the_host_support_all_of_it()
    {
        var r = DomainTransformer.Transform(TwoGpus, Tray().Host, New());
        Assert.Contains("model='pcie-expander-bus'", r.Xml, StringComparison.Ordinal);
        Assert.Contains("<driver pciBus='1' accel='on'", r.Xml, StringComparison.Ordinal);
        Assert.Equal(2, r.Xml.Split("iommufd='yes'").Length - 1);
    }

    [Theory]
    [InlineData("12.7.0", 11, 1, "libvirt 12.7.0")]
    [InlineData("12.8.0", 10, 2, "QEMU 10.2")]
    public void Auto_keeps_the_flat_layout_for_older_targets_and_says_which(string libvirt, int major, int minor, string named)
    {
        var r = DomainTransformer.Transform(TwoGpus, Tray().Host, New(qemu: (major, minor), libvirt: libvirt));
        Assert.DoesNotContain("pcie-expander-bus", r.Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<iommu", r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.StartsWith("kept the flat Grace layout", StringComparison.Ordinal) && m.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_keeps_the_flat_layout_when_the_QEMU_version_is_unknown()
    {
        var options = New() with { Qemu = TargetQemu.Unknown };
        Assert.DoesNotContain("pcie-expander-bus", DomainTransformer.Transform(TwoGpus, Tray().Host, options).Xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_keeps_the_flat_layout_on_a_host_without_iommufd_or_nested_SMMUv3()
    {
        var noIommufd = DomainTransformer.Transform(TwoGpus, Tray(new GraceKernelLayout(Iommufd: "m", IommufdLoaded: false)).Host, New());
        Assert.DoesNotContain("pcie-expander-bus", noIommufd.Xml, StringComparison.Ordinal);
        Assert.Contains(noIommufd.Messages, m => m.Contains("no /dev/iommu", StringComparison.Ordinal));

        var noNested = DomainTransformer.Transform(TwoGpus, Tray(new GraceKernelLayout(ArmSmmuV3Iommufd: false)).Host, New());
        Assert.DoesNotContain("pcie-expander-bus", noNested.Xml, StringComparison.Ordinal);
        Assert.Contains(noNested.Messages, m => m.Contains("CONFIG_ARM_SMMU_V3_IOMMUFD", StringComparison.Ordinal));
    }

    [Fact]
    public void Expander_on_a_host_without_nested_SMMUv3_gives_the_expanders_and_iommufd_but_no_vSMMU()
    {
        var r = DomainTransformer.Transform(TwoGpus, Tray(new GraceKernelLayout(ArmSmmuV3Iommufd: false)).Host, New(GracePciLayout.Expander));
        Assert.Contains("model='pcie-expander-bus'", r.Xml, StringComparison.Ordinal);
        Assert.Contains("iommufd='yes'", r.Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<iommu", r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.StartsWith("no virtual SMMU on the expanders", StringComparison.Ordinal));
    }

    [Fact]
    public void A_GPU_opting_out_of_iommufd_gets_no_vSMMU()
    {
        var input = TwoGpus.Replace("<hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0008'",
            "<hostdev mode='subsystem' type='pci' managed='no'>\n      <driver iommufd='no'/>\n      <source>\n        <address domain='0x0008'", StringComparison.Ordinal);
        Assert.NotEqual(TwoGpus, input);
        var r = DomainTransformer.Transform(input, Tray().Host, New(GracePciLayout.Expander));
        Assert.DoesNotContain("<iommu", r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.Contains("says <driver iommufd='no'/>", StringComparison.Ordinal));
        Assert.Equal(input, DomainTransformer.Undo(r.Xml).Xml);
    }

    [Fact]
    public void A_GPU_with_a_guest_address_stays_flat_under_auto_and_is_refused_under_expander()
    {
        var input = TwoGpus.Replace("      </source>\n    </hostdev>", "      </source>\n      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n    </hostdev>", StringComparison.Ordinal);
        var host = Tray().Host;
        var auto = DomainTransformer.Transform(input, host, New());
        Assert.DoesNotContain("pcie-expander-bus", auto.Xml, StringComparison.Ordinal);
        Assert.Contains(auto.Messages, m => m.Contains("already has a guest PCI address", StringComparison.Ordinal));
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(input, host, New(GracePciLayout.Expander)));
        Assert.Contains("Delete the <address type='pci'> element", e.Message, StringComparison.Ordinal);
        Assert.Contains("domain 'gb200-two-gpus'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_added_later_joins_the_expander_of_its_SMMU_and_cell()
    {
        var host = Tray().Host;
        var one = TwoGpus.Replace("    <hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n", "", StringComparison.Ordinal);
        Assert.NotEqual(TwoGpus, one);
        var first = DomainTransformer.Transform(one, host, New()).Xml;
        var added = first.Replace("  </devices>", "    <hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n  </devices>", StringComparison.Ordinal);
        var second = DomainTransformer.Transform(added, host, New()).Xml;
        Assert.Equal(1, second.Split("model='pcie-expander-bus'").Length - 1);
        Assert.Equal(2, second.Split("model='pcie-root-port'").Length - 1);
        Assert.Equal(1, second.Split("<iommu model='smmuv3'>").Length - 1);
    }

    [Fact]
    public void A_memory_only_cell_before_the_GPUs_nodes_is_refused_with_the_fix()
    {
        var input = TwoGpus.Replace("<cell id='1' cpus='16-31' memory='134217728' unit='KiB'/>", "<cell id='1' memory='134217728' unit='KiB'/>", StringComparison.Ordinal);
        Assert.NotEqual(TwoGpus, input);
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(input, Tray().Host, New(GracePciLayout.Flat)));
        Assert.Contains("guest cell(s) 1 have memory but no vCPUs", e.Message, StringComparison.Ordinal);
        Assert.Contains("add them back with ids after", e.Message, StringComparison.Ordinal);
    }
}
