using System.Text;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The preflight of the production Grace layout (libvirt 12: pcie-expander-bus per host SMMU, root ports, iommufd,
/// an accelerated smmuv3 per expander) against the host: iommufd there, nested SMMUv3 in the kernel, and the layout
/// mirroring the host's SMMU grouping. Each failing host is a built-in one with one kernel option taken away.
/// </summary>
public sealed class GraceIommuPreflightTests : IDisposable
{
    private static readonly PciAddress Gb0 = PciAddress.Parse("0008:01:00.0");
    private static readonly PciAddress Gb1 = PciAddress.Parse("0009:01:00.0");
    private static readonly PciAddress Gb2 = PciAddress.Parse("0018:01:00.0");

    private readonly TempDirectory _dir = new("lvn-iommu-");

    public void Dispose() => _dir.Dispose();

    /// <summary>One expander: its controller index, NUMA cell, and the smmuv3 options on it ("" = no iommu).</summary>
    private sealed record Expander(int Index, int Node, string Smmu = "accel='on' ats='on' ril='off' ssidsize='20' oas='48'");

    /// <summary>A GPU on a root port of an expander; <paramref name="Driver"/> is the hostdev's &lt;driver&gt; attributes.</summary>
    private sealed record Placed(PciAddress Gpu, int Expander, string Driver = "iommufd='yes' model='nvgrace_gpu_vfio_pci'");

    private static string Domain(Expander[] expanders, Placed[] gpus, bool domainIommufd = false)
    {
        var sb = new StringBuilder();
        sb.Append("""
            <domain type='kvm'>
              <name>g</name>
              <memory unit='GiB'>16</memory>
              <vcpu>4</vcpu>
              <os><type arch='aarch64' machine='virt'>hvm</type></os>
              <cpu><numa><cell id='0' cpus='0-1' memory='8' unit='GiB'/><cell id='1' cpus='2-3' memory='8' unit='GiB'/></numa></cpu>
              <numatune><memnode cellid='0' mode='strict' nodeset='0'/><memnode cellid='1' mode='strict' nodeset='1'/></numatune>

            """);
        if (domainIommufd) sb.Append("  <iommufd enabled='yes'/>\n");
        sb.Append("  <devices>\n    <controller type='pci' index='0' model='pcie-root'/>\n");
        foreach (var e in expanders)
        {
            sb.Append($"    <controller type='pci' index='{e.Index}' model='pcie-expander-bus'><target><node>{e.Node}</node></target></controller>\n");
        }
        var port = expanders.Max(e => e.Index) + 1;
        foreach (var g in gpus)
        {
            // Root ports in hex, hostdev guest addresses in decimal: libvirt accepts both.
            sb.Append($"    <controller type='pci' index='{port}' model='pcie-root-port'><address type='pci' bus='0x{g.Expander:x2}' slot='0' function='0'/></controller>\n");
            sb.Append($"    <hostdev mode='subsystem' type='pci' managed='yes'><driver {g.Driver}/><source><address domain='0x{g.Gpu.Domain:x4}' bus='0x{g.Gpu.Bus:x2}' slot='0x00' function='0x0'/></source>" +
                      $"<address type='pci' bus='{port}' slot='0' function='0'/></hostdev>\n");
            port++;
        }
        foreach (var e in expanders.Where(e => e.Smmu.Length > 0))
        {
            sb.Append($"    <iommu model='smmuv3'><driver pciBus='{e.Index}' {e.Smmu}/></iommu>\n");
        }
        sb.Append("  </devices>\n</domain>\n");
        return sb.ToString();
    }

    /// <summary>The GB200 tray with the kernel given; its two SMMUs are 0008+0009 and 0018+0019.</summary>
    private (HostTopology Host, HostRoot Root) Tray(GraceKernelLayout? kernel = null, string? release = null)
    {
        var layout = BuiltInLayouts.GraceBlackwell4Gpu with
        {
            Name = "tray",
            KernelRelease = release ?? BuiltInLayouts.GraceBlackwell4Gpu.KernelRelease,
            Grace = BuiltInLayouts.GraceBlackwell4Gpu.Grace! with { Kernel = kernel },
        };
        var dir = _dir[Guid.NewGuid().ToString("N")];
        SimulatedHostWriter.Write(layout, dir);
        var root = new HostRoot(dir);
        return (HostDiscovery.Discover(root), root);
    }

    private static IReadOnlyList<Finding> Check(string xml, (HostTopology Host, HostRoot Root) tray)
    {
        var d = DomainDefinition.Parse(xml);
        var release = PlatformReader.KernelRelease(tray.Root);
        var facts = new PreflightFacts(new TargetLibvirt(new LibvirtVersion(12, 8, 0), TargetLibvirt.FromOption), release, (11, 1), () => [], [],
            new HashSet<PciAddress>(), 3, PreflightFactsReader.ReadIommufd(tray.Root, release, d.PciHostdevs().Select(h => h.Source)));
        return GracePreflight.Check(d, tray.Host, facts);
    }

    private static readonly string[] OurCodes =
    [
        "grace-iommufd-missing", "grace-vfio-cdev-missing", "grace-vsmmu-needs-iommufd", "grace-kernel-no-nested-smmu", "grace-kernel-no-cmdqv",
        "grace-vsmmu-spans-smmus", "grace-smmu-split-across-vsmmus", "grace-expander-node-mismatch",
    ];

    private static IEnumerable<Finding> Ours(IEnumerable<Finding> findings) => findings.Where(f => OurCodes.Contains(f.Code));

    private static readonly Placed[] SocketZero = [new(Gb0, 1), new(Gb1, 1)];

    [Fact]
    public void The_guest_layout_is_read_from_the_libvirt_12_forms()
    {
        var xml = Domain([new Expander(1, 0, "accel='on' ats='on' ril='off' ssidsize='20' oas='48' cmdqv='on'"), new Expander(2, 1, "")],
            [new Placed(Gb0, 1), new Placed(Gb1, 1, "iommufd='no'"), new Placed(Gb2, 2, "model='nvgrace_gpu_vfio_pci'")], domainIommufd: true);
        var d = DomainDefinition.Parse(xml);
        var layout = GuestPciLayout.Read(d);
        Assert.Equal([1, 2], layout.Expanders.Select(e => e.Index));
        Assert.Equal([0, 1], layout.Expanders.Select(e => e.NumaNode!.Value));
        Assert.Equal(1, layout.Buses[3].ParentBus);
        Assert.Equal("pcie-root-port", layout.Buses[3].Model);
        var h = d.PciHostdevs();
        Assert.Equal([1, 1, 2], h.Select(x => layout.ExpanderOf(x.GuestAddress)!.Index));
        Assert.Equal([true, false, true], h.Select(layout.UsesIommufd));
        var smmu = Assert.Single(layout.Smmus);
        Assert.Equal(smmu, layout.SmmuOn(layout.Buses[1]));
        Assert.Null(layout.SmmuOn(layout.Buses[2]));
        Assert.Equal((1, true, "on", "off", 20, 48, true), (smmu.PciBus!.Value, smmu.Accel, smmu.Ats, smmu.Ril, smmu.SsidSize!.Value, smmu.Oas!.Value, smmu.CmdqvOn));
        Assert.True(layout.DomainIommufd);
        // Without a domain-wide <iommufd>, a hostdev without the attribute uses the legacy VFIO group.
        Assert.False(GuestPciLayout.Read(DomainDefinition.Parse(xml.Replace("  <iommufd enabled='yes'/>\n", "", StringComparison.Ordinal))).UsesIommufd(h[2]));
    }

    [Fact]
    public void A_device_without_a_guest_address_or_on_pcie_root_is_under_no_expander()
    {
        var d = DomainDefinition.Parse(Domain([new Expander(1, 0)], SocketZero));
        var layout = GuestPciLayout.Read(d);
        Assert.Null(layout.ExpanderOf(null));
        Assert.Null(layout.ExpanderOf(new GuestPciAddress(0, 0, 5, 0)));
        Assert.Null(layout.ExpanderOf(new GuestPciAddress(0, 9, 0, 0)));
    }

    [Fact]
    public void The_production_layout_on_a_host_that_has_everything_passes()
    {
        var findings = Check(Domain([new Expander(1, 0, "accel='on' ats='on' ril='off' ssidsize='20' oas='48' cmdqv='on'")], SocketZero), Tray());
        Assert.Empty(Ours(findings));
    }

    [Fact]
    public void Iommufd_without_dev_iommu_is_an_error_that_says_modprobe_iommufd()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0)], SocketZero), Tray(new GraceKernelLayout(Iommufd: "m", IommufdLoaded: false)))));
        Assert.Equal(("grace-iommufd-missing", Severity.Error), (f.Code, f.Severity));
        Assert.Contains("modprobe iommufd", f.Message, StringComparison.Ordinal);
        Assert.Contains("CONFIG_IOMMUFD=m", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Domain_wide_iommufd_counts_as_iommufd_too()
    {
        var gpus = SocketZero.Select(p => p with { Driver = "model='nvgrace_gpu_vfio_pci'" }).ToArray();
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0, "")], gpus, domainIommufd: true), Tray(new GraceKernelLayout(IommufdLoaded: false)))));
        Assert.Equal("grace-iommufd-missing", f.Code);
        // iommufd='no' on the hostdev wins over the domain.
        Assert.Empty(Ours(Check(Domain([new Expander(1, 0, "")], [.. gpus.Select(p => p with { Driver = "iommufd='no'" })], domainIommufd: true),
            Tray(new GraceKernelLayout(IommufdLoaded: false)))));
    }

    [Fact]
    public void A_GPU_on_its_VFIO_driver_without_a_VFIO_cdev_is_an_error_naming_CONFIG_VFIO_DEVICE_CDEV()
    {
        var findings = Ours(Check(Domain([new Expander(1, 0)], SocketZero), Tray(new GraceKernelLayout(VfioDeviceCdev: false)))).ToList();
        Assert.Equal(["0008:01:00.0", "0009:01:00.0"], findings.Select(f => f.Device));
        Assert.All(findings, f => Assert.Equal(("grace-vfio-cdev-missing", Severity.Error), (f.Code, f.Severity)));
        Assert.Contains("CONFIG_VFIO_DEVICE_CDEV", findings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostdev_without_iommufd_under_an_accelerated_vSMMU_is_an_error()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0)], [new(Gb0, 1), new(Gb1, 1, "iommufd='no' model='nvgrace_gpu_vfio_pci'")]), Tray())));
        Assert.Equal(("grace-vsmmu-needs-iommufd", "0009:01:00.0", Severity.Error), (f.Code, f.Device, f.Severity));
        Assert.Contains("<driver iommufd='yes'/>", f.Message, StringComparison.Ordinal);
        // Without accel the legacy form is fine under an emulated vSMMU.
        Assert.Empty(Ours(Check(Domain([new Expander(1, 0, "")], [new(Gb0, 1), new(Gb1, 1, "iommufd='no'")]), Tray())));
    }

    [Fact]
    public void An_accelerated_vSMMU_on_a_kernel_built_without_ARM_SMMU_V3_IOMMUFD_is_an_error()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0)], SocketZero), Tray(new GraceKernelLayout(ArmSmmuV3Iommufd: false)))));
        Assert.Equal(("grace-kernel-no-nested-smmu", Severity.Error), (f.Code, f.Severity));
        Assert.Contains("CONFIG_ARM_SMMU_V3_IOMMUFD", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_readable_kernel_config_the_release_decides_nested_SMMUv3()
    {
        var noConfig = new GraceKernelLayout(ConfigFile: false);
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0)], SocketZero), Tray(noConfig, "6.8.0-1013-nvidia-64k"))));
        Assert.Equal("grace-kernel-no-nested-smmu", f.Code);
        Assert.Contains("Linux 6.8.0-1013-nvidia-64k predates nested SMMUv3 through iommufd (6.13)", f.Message, StringComparison.Ordinal);
        Assert.Empty(Ours(Check(Domain([new Expander(1, 0)], SocketZero), Tray(noConfig, "6.14.0-1002-nvidia-64k"))));
    }

    [Fact]
    public void Cmdqv_on_needs_CONFIG_TEGRA241_CMDQV()
    {
        var cmdqv = new Expander(1, 0, "accel='on' cmdqv='on'");
        var f = Assert.Single(Ours(Check(Domain([cmdqv], SocketZero), Tray(new GraceKernelLayout(Tegra241Cmdqv: false)))));
        Assert.Equal(("grace-kernel-no-cmdqv", Severity.Error), (f.Code, f.Severity));
        Assert.Contains("CONFIG_TEGRA241_CMDQV", f.Message, StringComparison.Ordinal);
        Assert.Empty(Ours(Check(Domain([new Expander(1, 0, "accel='on' cmdqv='off'")], SocketZero), Tray(new GraceKernelLayout(Tegra241Cmdqv: false)))));
    }

    [Fact]
    public void GPUs_of_two_host_SMMUs_under_one_accelerated_vSMMU_are_an_error_naming_both_SMMUs()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0)], [new(Gb0, 1), new(Gb2, 1)]), Tray())), x => x.Code == "grace-vsmmu-spans-smmus");
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains("smmu3.0x0000000016000000: 0008:01:00.0", f.Message, StringComparison.Ordinal);
        Assert.Contains("smmu3.0x0000100016000000: 0018:01:00.0", f.Message, StringComparison.Ordinal);
        Assert.Contains("its own pcie-expander-bus", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GPUs_of_one_host_SMMU_under_two_accelerated_vSMMUs_are_a_warning()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 0), new Expander(2, 0)], [new(Gb0, 1), new(Gb1, 2)]), Tray())));
        Assert.Equal(("grace-smmu-split-across-vsmmus", Severity.Warning), (f.Code, f.Severity));
        Assert.Contains("smmu3.0x0000000016000000", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_expander_on_another_NUMA_cell_than_the_GPUs_CPU_node_is_a_warning()
    {
        var f = Assert.Single(Ours(Check(Domain([new Expander(1, 1)], SocketZero[..1]), Tray())));
        Assert.Equal(("grace-expander-node-mismatch", "0008:01:00.0", Severity.Warning), (f.Code, f.Device, f.Severity));
        Assert.Contains("<target><node>0</node></target>", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_facts_reader_the_hook_and_check_use_reads_dev_iommu_the_cdevs_and_the_kernel_config()
    {
        var tray = Tray();
        var d = DomainDefinition.Parse(Domain([new Expander(1, 0)], SocketZero));
        var facts = PreflightFactsReader.Read(tray.Root, tray.Root.Map(PlatformReader.LibvirtCapabilityCache), d, null, [], new HashSet<PciAddress>());
        var io = Assert.IsType<IommufdHostFacts>(facts.Iommufd);
        Assert.True(io.HasDevIommu);
        Assert.Equal(["vfio0", "vfio1"], new[] { Gb0, Gb1 }.Select(a => io.VfioCdevs[a]));
        Assert.Equal("y", io.KernelConfig!.Value("ARM_SMMU_V3_IOMMUFD"));
        Assert.Equal("/boot/config-6.11.0-1004-nvidia-64k", io.KernelConfig.Source);
    }

    [Fact]
    public void A_domain_without_iommufd_or_an_accelerated_vSMMU_reads_no_iommufd_facts()
    {
        var tray = Tray();
        var d = DomainDefinition.Parse(Domain([new Expander(1, 0, "")], [.. SocketZero.Select(p => p with { Driver = "model='nvgrace_gpu_vfio_pci'" })]));
        Assert.Null(PreflightFactsReader.Read(tray.Root, tray.Root.Map(PlatformReader.LibvirtCapabilityCache), d, null, [], new HashSet<PciAddress>()).Iommufd);
    }
}
