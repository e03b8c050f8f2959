using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Tests;

/// <summary>Grace Hopper / Blackwell: discovery of generic-initiator nodes, the transform, and the prepare-time checks.</summary>
public class GraceTests
{
    private static readonly PciAddress Gh200 = PciAddress.Parse("0009:01:00.0");
    private static readonly PciAddress Gb0 = PciAddress.Parse("0008:01:00.0");
    private static readonly PciAddress Gb2 = PciAddress.Parse("0018:01:00.0");
    private static readonly PciAddress Gb3 = PciAddress.Parse("0019:01:00.0");

    private static HostTopology Gh => SimulatedHosts.Topology(BuiltInLayouts.GraceHopper1Gpu);

    private static HostTopology Gb => SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu);

    private static TransformOptions Options(string libvirt, (int, int)? qemu) =>
        new(MemlockMode.Auto, new TargetLibvirt(LibvirtVersion.TryParse(libvirt, out var v) ? v : default, TargetLibvirt.FromOption),
            qemu is { } q ? new TargetQemu(q, TargetQemu.FromOption) : null);

    private static PreflightFacts Facts(string libvirt = "9.0.0", (int, int)? qemu = null, IReadOnlySet<PciAddress>? bound = null, IReadOnlyList<string>? holders = null) =>
        new(new TargetLibvirt(LibvirtVersion.TryParse(libvirt, out var v) ? v : default, TargetLibvirt.FromOption), "6.11.0", qemu ?? (9, 2),
            () => holders ?? [], [], bound ?? new HashSet<PciAddress>());

    private static string Domain(string arch = "aarch64", string managed = "no", params PciAddress[] gpus) =>
        $"""
        <domain type='kvm'>
          <name>g</name>
          <memory unit='GiB'>16</memory>
          <vcpu>4</vcpu>
          <os>
            <type arch='{arch}' machine='{(arch == "aarch64" ? "virt" : "pseries")}'>hvm</type>
          </os>
          <devices>
        {string.Concat(gpus.Select(g => $"    <hostdev mode='subsystem' type='pci' managed='{managed}'>\n      <source>\n        <address domain='0x{g.Domain:x4}' bus='0x{g.Bus:x2}' slot='0x{g.Slot:x2}' function='0x{g.Function:x}'/>\n      </source>\n    </hostdev>\n"))}  </devices>
        </domain>

        """;

    [Fact]
    public void A_GH200_host_has_one_GPU_with_the_8_memoryless_nodes_after_its_CPU_node()
    {
        var gpu = Assert.Single(Gh.GraceGpus);
        Assert.Equal(Gh200, gpu.Address);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], gpu.GiNodes);
        Assert.True(gpu.HasVariantDriver);
        Assert.Equal((16UL << 20) + (1UL << 30) + (128UL << 30), gpu.Mmio64Bytes);
        // A vendor 6.8 kernel with the driver bound is fine: only a missing driver is a problem.
        Assert.DoesNotContain(Gh.Findings, f => f.Code.StartsWith("grace-", StringComparison.Ordinal));
        Assert.Empty(Gh.Gpus);
    }

    [Fact]
    public void A_GB200_tray_splits_the_memoryless_nodes_8_per_GPU_in_address_order_and_reports_driver_problems()
    {
        Assert.Equal([[2, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14, 15, 16, 17], [18, 19, 20, 21, 22, 23, 24, 25], [26, 27, 28, 29, 30, 31, 32, 33]],
            Gb.GraceGpus.Select(g => g.GiNodes.ToList()).ToList());
        Assert.Contains(Gb.Findings, f => f.Code == "grace-plain-vfio-pci" && f.Device == Gb2.ToString() && f.Severity == Severity.Error);
        Assert.Contains(Gb.Findings, f => f.Code == "grace-held-by-host-driver" && f.Device == Gb3.ToString());
        Assert.Equal(80, Gb.NumaNode(2)!.Distances[0]);
        Assert.Equal(120, Gb.NumaNode(18)!.Distances[0]);
        Assert.Equal(10, Gb.NumaNode(18)!.Distances[18]);
    }

    [Fact]
    public void The_number_of_nodes_per_GPU_comes_from_the_host_not_a_constant()
    {
        var layout = BuiltInLayouts.GraceBlackwell4Gpu with { Name = "gb-4-nodes", Grace = BuiltInLayouts.GraceBlackwell4Gpu.Grace! with { GiNodesPerGpu = 4 } };
        var root = Path.Combine(TestRunTemp.NewDirectory("grace-"), "host");
        SimulatedHostWriter.Write(layout, root);
        var t = HostAccess.HostDiscovery.Discover(new HostAccess.HostRoot(root));
        Assert.Equal([2, 3, 4, 5], t.GraceGpuAt(Gb0)!.GiNodes);
        Assert.Equal([14, 15, 16, 17], t.GraceGpuAt(Gb3)!.GiNodes);
    }

    private static List<NumaNodeInfo> Nodes(int cpuNodes, int memoryless) =>
        [.. Enumerable.Range(0, cpuNodes + memoryless).Select(i => new NumaNodeInfo(i, i < cpuNodes, i < cpuNodes, new Dictionary<int, int>()))];

    private static PciDevice Grace(string address, int? node, string? driver = GraceGpu.VariantDriver) =>
        new(PciAddress.Parse(address), PciIds.VendorNvidia, 0x2941, 0x030200, driver, 1, node, null);

    [Fact]
    public void A_GPU_that_reports_its_own_first_node_owns_the_nodes_up_to_the_next_GPUs()
    {
        var findings = new List<Finding>();
        var gpus = GraceTopologyBuilder.Build([Grace("0008:01:00.0", 2), Grace("0009:01:00.0", 7)], Nodes(2, 10), "6.11.0", _ => true, findings);
        Assert.Equal([2, 3, 4, 5, 6], gpus[0].GiNodes);
        Assert.Equal([7, 8, 9, 10, 11], gpus[1].GiNodes);
        Assert.Empty(findings);
    }

    [Fact]
    public void Nodes_that_do_not_split_evenly_are_reported_as_ambiguous_and_given_to_nobody()
    {
        var findings = new List<Finding>();
        var gpus = GraceTopologyBuilder.Build([Grace("0008:01:00.0", 0), Grace("0009:01:00.0", 0), Grace("0018:01:00.0", 0)], Nodes(1, 8), "6.11.0", _ => true, findings);
        Assert.All(gpus, g => Assert.Empty(g.GiNodes));
        Assert.Contains(findings, f => f.Code == "grace-gi-nodes-ambiguous");
        Assert.DoesNotContain(findings, f => f.Code == "grace-no-gi-nodes");
    }

    [Fact]
    public void A_host_without_memoryless_nodes_is_an_error_naming_the_GPU()
    {
        var findings = new List<Finding>();
        GraceTopologyBuilder.Build([Grace("0009:01:00.0", 0)], Nodes(1, 0), "6.11.0", _ => true, findings);
        var f = Assert.Single(findings);
        Assert.Equal("grace-no-gi-nodes", f.Code);
        Assert.Equal("0009:01:00.0", f.Device);
    }

    [Theory]
    [InlineData("6.1.0-18-arm64", "grace-kernel-too-old")]
    [InlineData("6.11.0-1004-nvidia-64k", "grace-variant-driver-missing")]
    public void Without_the_variant_driver_the_kernel_decides_which_fix_is_given(string kernel, string code)
    {
        var findings = new List<Finding>();
        GraceTopologyBuilder.Build([Grace("0009:01:00.0", 0, "vfio-pci")], Nodes(1, 8), kernel, _ => false, findings);
        Assert.Contains(findings, f => f.Code == code && f.Severity == Severity.Error);
    }

    [Fact]
    public void Transform_refuses_a_non_aarch64_domain_naming_GPU_and_machine()
    {
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(Domain("ppc64le", "no", Gh200), Gh, Options("11.8.0", (9, 2))));
        Assert.Contains("0009:01:00.0", e.Message, StringComparison.Ordinal);
        Assert.Contains("arch='aarch64' machine='virt'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transform_refuses_a_QEMU_without_generic_initiators_and_names_the_versions_needed()
    {
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("9.0.0", (8, 2))));
        Assert.Contains("QEMU 9.0", e.Message, StringComparison.Ordinal);
        Assert.Contains("libvirt 11.8.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transform_warns_that_old_libvirt_rebinds_managed_GPUs_to_plain_vfio_pci()
    {
        var r = DomainTransformer.Transform(Domain(managed: "yes", gpus: Gh200), Gh, Options("9.0.0", (9, 2)));
        Assert.Contains(r.Messages, m => m.Contains("plain vfio-pci", StringComparison.Ordinal) && m.Contains("managed='no'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_GPU_added_later_gets_the_next_guest_nodes_and_undo_still_restores_the_original()
    {
        var one = Domain(gpus: Gb0);
        var first = DomainTransformer.Transform(one, Gb, Options("9.0.0", (10, 0))).Xml;
        var withSecond = first.Replace("  </devices>", "    <hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n  </devices>", StringComparison.Ordinal);
        var second = DomainTransformer.Transform(withSecond, Gb, Options("9.0.0", (10, 0)));
        Assert.True(second.Changed);
        Assert.Contains("acpi-generic-initiator,id=lvn-gi8,pci-dev=ua-nvgrace-0008-01-00-0,node=8", second.Xml, StringComparison.Ordinal);
        Assert.Contains("acpi-generic-initiator,id=lvn-gi9,pci-dev=ua-nvgrace-0009-01-00-0,node=9", second.Xml, StringComparison.Ordinal);
        Assert.Contains("acpi-generic-initiator,id=lvn-gi16,pci-dev=ua-nvgrace-0009-01-00-0,node=16", second.Xml, StringComparison.Ordinal);
        var undone = DomainTransformer.Undo(second.Xml).Xml;
        Assert.Equal(Domain(gpus: [Gb0, Gb0 with { Domain = 9 }]), undone);
        Assert.DoesNotContain("qemu:", undone, StringComparison.Ordinal);
        Assert.DoesNotContain("<numa>", undone, StringComparison.Ordinal);
    }

    [Fact]
    public void Undo_takes_back_the_siblings_libvirt_mirrors_into_the_users_cells()
    {
        var input = Domain(gpus: Gh200);
        var output = DomainTransformer.Transform(input, Gh, Options("11.8.0", (9, 2))).Xml;
        // What libvirt's dumpxml shows after define: cell 0 gets the mirrored distances row.
        var doc = XDocument.Parse(output);
        var cell0 = doc.Root!.Element("cpu")!.Element("numa")!.Elements("cell").First();
        cell0.Add(new XElement("distances", Enumerable.Range(0, 9).Select(i => new XElement("sibling", new XAttribute("id", i), new XAttribute("value", i == 0 ? 10 : 80)))));
        var undone = XDocument.Parse(DomainTransformer.Undo(doc.ToString()).Xml);
        Assert.Null(undone.Root!.Element("cpu"));
        Assert.Null(undone.Root.Element("devices")!.Element("hostdev")!.Element("acpi"));
        Assert.Null(undone.Root.Element("devices")!.Element("hostdev")!.Element("driver"));
    }

    [Fact]
    public void Preflight_of_an_untransformed_domain_reports_the_missing_nodes_for_each_GPU()
    {
        var d = DomainDefinition.Parse(Domain(gpus: [Gb0, Gb2]));
        var findings = GracePreflight.Check(d, Gb, Facts());
        Assert.Equal(2, findings.Count(f => f.Code == "grace-gi-nodes-missing"));
        Assert.All(findings.Where(f => f.Code == "grace-gi-nodes-missing"), f => Assert.Contains("libvirt-nvlink apply --domain g", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Preflight_of_a_transformed_domain_flags_only_the_GPUs_with_the_wrong_driver()
    {
        var xml = DomainTransformer.Transform(Domain(gpus: [Gb0, Gb2, Gb3]), Gb, Options("9.0.0", (10, 0))).Xml;
        var findings = GracePreflight.Check(DomainDefinition.Parse(xml), Gb, Facts(qemu: (10, 0)));
        Assert.Equal(
            [("grace-held-by-host-driver", Gb3.ToString()), ("grace-variant-driver-not-bound", Gb2.ToString())],
            findings.Where(f => f.Severity == Severity.Error).Select(f => (f.Code, f.Device)).Order().ToList());
        // The hook binding it (bind-managed-no) clears the driver finding.
        var bound = GracePreflight.Check(DomainDefinition.Parse(xml), Gb, Facts(qemu: (10, 0), bound: new HashSet<PciAddress> { Gb2 }));
        Assert.DoesNotContain(bound, f => f.Code == "grace-variant-driver-not-bound");
    }

    [Fact]
    public void Preflight_flags_a_GPU_held_by_nvidia_persistenced_even_when_managed()
    {
        var xml = DomainTransformer.Transform(Domain(managed: "yes", gpus: Gb3), Gb, Options("11.8.0", (10, 0))).Xml;
        var findings = GracePreflight.Check(DomainDefinition.Parse(xml), Gb, Facts("11.8.0", (10, 0), holders: ["nvidia-persistenced"]));
        Assert.Contains(findings, f => f.Code == "grace-gpu-in-use" && f.Message.Contains("nvidia-persistenced", StringComparison.Ordinal));
    }

    [Fact]
    public void The_MMIO_window_is_checked_against_the_BARs_VFIO_hands_QEMU_not_the_physical_ones_sysfs_shows()
    {
        PciAddress[] four = [Gb0, Gb0 with { Domain = 9 }, Gb2, Gb3];
        var xml = DomainTransformer.Transform(Domain(gpus: four), Gb, Options("9.0.0", (10, 0))).Xml;
        // From sysfs: 4 × (64 MiB + 256 GiB), each root port's window rounded up to 512 GiB, and 1 GiB for the other
        // devices fit the 4 TiB window the transform wrote (NVIDIA's figure for four GB200s).
        Assert.Contains("highmem-mmio-size=4T", xml, StringComparison.Ordinal);
        var d = DomainDefinition.Parse(xml);
        Assert.DoesNotContain(GracePreflight.Check(d, Gb, Facts(qemu: (10, 0))), f => f.Code == "grace-mmio-window-small");

        // nvgrace-gpu emulates BAR2 (resmem) and BAR4 (usemem, rounded up to a power of two) over the GPU memory:
        // recorded answers where usemem is 512 GiB need 1 TiB per root port, so an 8 TiB window.
        const ulong GiB = 1UL << 30;
        var probes = four.Select((g, i) => new VfioGroupProbe(i, true,
            [new VfioDeviceRegions(g.ToString(), 9, []) { BarSizes = [64UL << 20, 0, 1 * GiB, 0, 512 * GiB, 0] }], null)).ToList();
        var small = Assert.Single(GracePreflight.Check(d, Gb, Facts(qemu: (10, 0)) with { VfioProbes = probes }), f => f.Code == "grace-mmio-window-small");
        Assert.Equal(Severity.Warning, small.Severity);
        Assert.Contains("gives the guest a 4096 GiB PCI window, but the GPUs' 64-bit BARs (as VFIO reports them) need 8192 GiB", small.Message, StringComparison.Ordinal);
        Assert.Contains("Set highmem-mmio-size=8T", small.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2T", 2UL << 40)]
    [InlineData("512G", 512UL << 30)]
    [InlineData("768m", 768UL << 20)]
    [InlineData("4096", 4096UL)]
    [InlineData("1.5T", null)]
    [InlineData("", null)]
    [InlineData("99999999999E", null)]
    public void Highmem_mmio_size_is_read_in_QEMUs_size_syntax(string text, ulong? bytes)
    {
        Assert.Equal(bytes, QemuCommandLine.ParseQemuSize(text));
        if (bytes is { } b && text.EndsWith('T')) Assert.Equal(text, QemuCommandLine.QemuSize(b));
    }

    [Fact]
    public void Preflight_refuses_old_QEMU_old_libvirt_forms_and_warns_about_a_small_MMIO_window()
    {
        var acpiForm = DomainTransformer.Transform(Domain(gpus: [Gb0, Gb0 with { Domain = 9 }]), Gb, Options("11.8.0", (9, 2))).Xml;
        var findings = GracePreflight.Check(DomainDefinition.Parse(acpiForm), Gb, Facts("9.0.0", (8, 2)));
        Assert.Contains(findings, f => f.Code == "grace-qemu-too-old" && f.Message.Contains("QEMU 8.2", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Code == "grace-acpi-needs-newer-libvirt");
        // One GH200 (about 129 GiB of BARs) fits the virt machine's default 512 GiB window.
        var gh = DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("9.0.0", (9, 2))).Xml;
        Assert.DoesNotContain(GracePreflight.Check(DomainDefinition.Parse(gh), Gh, Facts()), f => f.Code == "grace-mmio-window-small");

        var four = DomainTransformer.Transform(Domain(gpus: [Gb0, Gb0 with { Domain = 9 }, Gb2, Gb3]), Gb, Options("9.0.0", (9, 2))).Xml;
        Assert.Contains(GracePreflight.Check(DomainDefinition.Parse(four), Gb, Facts()), f => f.Code == "grace-mmio-window-small" && f.Severity == Severity.Warning);

        var managed = GracePreflight.Check(DomainDefinition.Parse(Domain(managed: "yes", gpus: Gb0)), Gb, Facts());
        Assert.Contains(managed, f => f.Code == "grace-managed-old-libvirt");
    }

    [Theory]
    [InlineData(8, 2, 0, false)]
    [InlineData(9, 0, 0, true)]
    [InlineData(9, 0, null, true)]
    [InlineData(9, 1, 1, true)]
    [InlineData(9, 1, null, true)]
    [InlineData(9, 1, 2, false)]
    [InlineData(9, 2, 0, false)]
    [InlineData(10, 1, null, false)]
    public void Preflight_warns_about_a_QEMU_that_swaps_bus_and_devfn_in_the_generic_initiator_device_handle(int major, int minor, int? micro, bool warned)
    {
        var xml = DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("11.8.0", (9, 2))).Xml;
        var findings = GracePreflight.Check(DomainDefinition.Parse(xml), Gh, Facts("11.8.0", (major, minor)) with { QemuMicro = micro });
        var found = findings.Where(f => f.Code == "grace-qemu-gi-device-handle").ToList();
        Assert.Equal(warned, found.Count == 1);
        if (warned)
        {
            Assert.Equal(Severity.Warning, found[0].Severity);
            Assert.Contains("Domain 'g'", found[0].Message, StringComparison.Ordinal);
            Assert.Contains(Gh200.ToString(), found[0].Message, StringComparison.Ordinal);
            Assert.Contains("QEMU 9.1.2 or newer", found[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_GPU_the_variant_driver_refused_at_probe_is_a_host_error_and_the_hook_refuses_it_with_the_reason()
    {
        // driver_override names nvgrace-gpu but no driver is bound: its probe failed (HBM training or C2C link not ready).
        var layout = BuiltInLayouts.GraceHopper1Gpu with
        {
            Grace = BuiltInLayouts.GraceHopper1Gpu.Grace! with
            {
                Gpus = [BuiltInLayouts.GraceHopper1Gpu.Grace!.Gpus[0] with { Driver = null, DriverOverride = GraceGpu.VariantDriver }],
            },
        };
        var root = SimulatedHosts.Fresh(layout);
        var host = HostAccess.HostDiscovery.Discover(new HostAccess.HostRoot(root));
        var f = Assert.Single(host.Findings, f => f.Code == "grace-variant-probe-failed");
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains("C2C link", f.Message, StringComparison.Ordinal);
        Assert.Contains("echo 0009:01:00.0 > /sys/bus/pci/drivers_probe", f.Message, StringComparison.Ordinal);

        var xml = DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("11.8.0", (9, 2))).Xml;
        var findings = GracePreflight.Check(DomainDefinition.Parse(xml), host, Facts("11.8.0"));
        Assert.Contains(findings, f => f.Code == "grace-variant-probe-failed" && f.Message.StartsWith("Domain 'g':", StringComparison.Ordinal));
        // Binding again would fail the same way: the fix offered is the one for the probe, not a driverctl override.
        Assert.DoesNotContain(findings, f => f.Code == "grace-variant-driver-not-bound");

        var refused = new HookHarness(root, qemu: (9, 2), libvirt: "11008000").Run(xml, "g", "prepare", "begin", "-");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("grace-variant-probe-failed", refused.Log, StringComparison.Ordinal);
        Assert.Contains("C2C link", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_whose_memory_VFIO_does_not_expose_is_refused_with_the_C2C_link_as_the_reason()
    {
        const ulong GiB = 1UL << 30;
        var xml = DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("11.8.0", (9, 2))).Xml;
        VfioRegionInfo Bar(uint i, ulong size, bool sparse) => new(i, size > 0 ? 7u : 0u, size, (ulong)i << 40,
            sparse ? [new VfioCapability(VfioConstants.RegionInfoCapSparseMmap, 1, new byte[24])] : []);
        VfioGroupProbe Probe(params VfioRegionInfo[] bars) => new(9, true,
            [new VfioDeviceRegions(Gh200.ToString(), 9, []) { BarSizes = [.. bars.Select(b => b.Size)], BarRegions = bars }], null);

        // The full driver: usemem (BAR4) and resmem (BAR2) emulated over the GPU memory, each with its mappable area.
        var healthy = Probe(Bar(0, 16UL << 20, false), Bar(1, 0, false), Bar(2, 1 * GiB, true), Bar(3, 0, false), Bar(4, 128 * GiB, true), Bar(5, 0, false));
        Assert.DoesNotContain(GracePreflight.Check(DomainDefinition.Parse(xml), Gh, Facts("11.8.0") with { VfioProbes = [healthy] }),
            f => f.Code == "grace-gpu-memory-missing");

        // gpu-mem-size 0 (C2C link down): the core ops hand out the physical BARs, and BAR4 has no GPU memory behind it.
        foreach (var usemem in (ulong[])[0, 32UL << 20])
        {
            var core = Probe(Bar(0, 16UL << 20, false), Bar(1, 0, false), Bar(2, 0, false), Bar(3, 0, false), Bar(4, usemem, false), Bar(5, 0, false));
            var f = Assert.Single(GracePreflight.Check(DomainDefinition.Parse(xml), Gh, Facts("11.8.0") with { VfioProbes = [core] }),
                f => f.Code == "grace-gpu-memory-missing");
            Assert.Equal(Severity.Error, f.Severity);
            Assert.StartsWith("Domain 'g':", f.Message, StringComparison.Ordinal);
            Assert.Contains("C2C link is down", f.Message, StringComparison.Ordinal);
            Assert.Contains($"echo {Gh200} > /sys/bus/pci/drivers/{GraceGpu.VariantDriver}/bind", f.Message, StringComparison.Ordinal);
        }
        // Sizes alone (an older reading without the regions) decide nothing.
        var sizesOnly = new VfioGroupProbe(9, true, [new VfioDeviceRegions(Gh200.ToString(), 9, []) { BarSizes = [16UL << 20, 0, 0, 0, 0, 0] }], null);
        Assert.DoesNotContain(GracePreflight.Check(DomainDefinition.Parse(xml), Gh, Facts("11.8.0") with { VfioProbes = [sizesOnly] }),
            f => f.Code == "grace-gpu-memory-missing");
    }

    [Fact]
    public void On_a_mixed_GB200_host_each_GPU_gets_the_nodes_the_firmware_names_it_with_even_where_a_GPUs_memory_is_online()
    {
        var host = SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4GpuMixed);
        Assert.DoesNotContain(host.Findings, f => f.Severity == Severity.Error);
        Assert.Equal(Enumerable.Range(2, 8), host.GraceGpuAt(PciAddress.Parse("0008:06:00.0"))!.GiNodes);
        Assert.Equal(Enumerable.Range(10, 8), host.GraceGpuAt(PciAddress.Parse("0009:06:00.0"))!.GiNodes);
        Assert.Equal(Enumerable.Range(18, 8), host.GraceGpuAt(PciAddress.Parse("0018:06:00.0"))!.GiNodes);
        // The GPU on nvidia keeps its block, node 26 with its memory included.
        Assert.Equal(Enumerable.Range(26, 8), host.GraceGpuAt(PciAddress.Parse("0019:06:00.0"))!.GiNodes);
        Assert.True(host.NumaNode(26)!.HasMemory);

        var three = DomainTransformer.Transform(Domain(gpus: [.. new[] { "0008:06:00.0", "0009:06:00.0", "0018:06:00.0" }.Select(PciAddress.Parse)]),
            host, Options("11.8.0", (10, 0))).Xml;
        Assert.Contains("<lvn:grace-gpu source='0008:06:00.0' nodes='1-8' host-nodes='2-9' form='acpi'/>", three, StringComparison.Ordinal);
        Assert.Contains("<lvn:grace-gpu source='0009:06:00.0' nodes='9-16' host-nodes='10-17' form='acpi'/>", three, StringComparison.Ordinal);
        Assert.Contains("<lvn:grace-gpu source='0018:06:00.0' nodes='17-24' host-nodes='18-25' form='acpi'/>", three, StringComparison.Ordinal);
    }

    [Fact]
    public void On_a_mixed_GB200_host_without_the_SRAT_the_nodes_are_an_error_and_no_GPU_gets_a_guessed_block()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.GraceBlackwell4GpuMixed);
        File.Delete(Path.Combine(root, "sys/firmware/acpi/tables/SRAT"));
        var host = HostAccess.HostDiscovery.Discover(new HostAccess.HostRoot(root));
        var f = Assert.Single(host.Findings, f => f.Code == "grace-gi-nodes-undecidable");
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains("Node(s) 26 have memory but no CPUs", f.Message, StringComparison.Ordinal);
        Assert.Contains("readable by root only", f.Message, StringComparison.Ordinal);
        Assert.All(host.GraceGpus, g => Assert.Empty(g.GiNodes));
        var e = Assert.Throws<TransformException>(() =>
            DomainTransformer.Transform(Domain(gpus: PciAddress.Parse("0008:06:00.0")), host, Options("11.8.0", (10, 0))));
        Assert.Contains("0008:06:00.0", e.Message, StringComparison.Ordinal);
        var findings = GracePreflight.Check(DomainDefinition.Parse(Domain(gpus: PciAddress.Parse("0008:06:00.0"))), host, Facts("11.8.0"));
        Assert.Contains(findings, f => f.Code == "grace-gi-nodes-undecidable" && f.Severity == Severity.Error);
    }

    [Fact]
    public void The_SRAT_names_GPUs_by_segment_bus_and_devfn_and_its_proximity_domains_are_numbered_as_Linux_meets_them()
    {
        var layout = BuiltInLayouts.GraceBlackwell4GpuMixed.Grace!;
        var srat = AcpiSrat.Parse(SratWriter.Write(layout));
        Assert.True(srat.NodesKnown);
        Assert.Equal([0, 1], srat.CpuProximityDomains);
        Assert.Equal(Enumerable.Range(16 + 8, 8), srat.ProximityDomainsOf(PciAddress.Parse("0009:06:00.0")));
        // Proximity domains 16.. are met after the CPUs' 0 and 1: Linux makes them nodes 2..
        Assert.Equal(10, srat.NodeOf(24));
        Assert.Empty(srat.ProximityDomainsOf(PciAddress.Parse("0009:01:00.0")));

        // A generic port's numbering changed between kernels: the table is then not replayed, and that is an error.
        var table = SratWriter.Write(layout);
        var withPort = new byte[table.Length + 32];
        table.CopyTo(withPort, 0);
        withPort[table.Length] = 6;
        withPort[table.Length + 1] = 32;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(withPort.AsSpan(4), (uint)withPort.Length);
        Assert.False(AcpiSrat.Parse(withPort).NodesKnown);
        var findings = new List<Finding>();
        var nodes = SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4GpuMixed).NumaNodes;
        var devices = SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4GpuMixed).Devices.Values;
        var gpus = GraceTopologyBuilder.Build(devices, nodes, "6.11.0", _ => true, findings, AcpiSrat.Parse(withPort));
        Assert.Contains(findings, f => f.Code == "grace-gi-nodes-undecidable" && f.Message.Contains("generic-port", StringComparison.Ordinal));
        Assert.All(gpus, g => Assert.Empty(g.GiNodes));

        Assert.Throws<FormatException>(() => AcpiSrat.Parse(table.AsSpan(0, 40)));
        // Cut short: the last subtable runs past the table's end.
        var cut = table[..^5];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(4), (uint)cut.Length);
        Assert.Throws<FormatException>(() => AcpiSrat.Parse(cut));
    }

    [Fact]
    public void Preflight_refuses_a_Grace_GPU_in_a_pseries_domain()
    {
        var findings = GracePreflight.Check(DomainDefinition.Parse(Domain("ppc64le", "no", Gh200)), Gh, Facts());
        Assert.Contains(findings, f => f.Code == "grace-not-virt" && f.Device == Gh200.ToString());
    }

    [Fact]
    public void Preflight_refuses_a_domain_whose_nodes_no_longer_match_the_host()
    {
        var xml = DomainTransformer.Transform(Domain(gpus: Gh200), Gh, Options("11.8.0", (9, 2))).Xml.Replace("<acpi nodeset='1-8'/>", "<acpi nodeset='1-4'/>", StringComparison.Ordinal);
        var findings = GracePreflight.Check(DomainDefinition.Parse(xml), Gh, Facts("11.8.0"));
        var f = Assert.Single(findings, f => f.Code == "grace-gi-nodes-mismatch");
        Assert.Contains("4 guest NUMA node(s)", f.Message, StringComparison.Ordinal);
        Assert.Contains("host has 8 (1-8)", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_without_generic_initiator_nodes_stops_both_transform_and_start()
    {
        var facts = new HostFacts([Grace("0009:01:00.0", 0)], null, _ => false, [], Nodes(1, 0), "6.11.0", _ => true);
        var host = TopologyBuilder.Build(facts);
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(Domain(gpus: Gh200), host, Options("11.8.0", (9, 2))));
        Assert.Contains("no generic-initiator NUMA nodes", e.Message, StringComparison.Ordinal);
        var findings = GracePreflight.Check(DomainDefinition.Parse(Domain(gpus: Gh200)), host, Facts());
        Assert.Contains(findings, f => f.Code == "grace-no-gi-nodes" && f.Message.StartsWith("Domain 'g':", StringComparison.Ordinal));
    }

    [Fact]
    public void The_hook_refuses_an_untransformed_Grace_domain_and_passes_the_transformed_one()
    {
        var h = new HookHarness(SimulatedHosts.PathOf(BuiltInLayouts.GraceBlackwell4Gpu), qemu: (10, 0));
        var bare = Domain(gpus: [Gb0, Gb0 with { Domain = 9 }]);
        var refused = h.Run(bare, "g", "prepare", "begin", "-");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("libvirt-nvlink refused to start 'g'", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("0008:01:00.0", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("libvirt-nvlink apply --domain g", refused.Stderr, StringComparison.Ordinal);

        var complete = DomainTransformer.Transform(bare, Gb, Options("9.0.0", (10, 0))).Xml;
        var passed = h.Run(complete, "g", "prepare", "begin", "-");
        Assert.True(passed.ExitCode == 0, passed.Stderr + passed.Log);
        Assert.Contains("preflight passed", passed.Log, StringComparison.Ordinal);
        Assert.Equal(0, h.Run(complete, "g", "reconnect", "begin", "-").ExitCode);
    }

    [Fact]
    public void With_bind_managed_no_the_hook_hands_a_vfio_pci_GPU_to_the_variant_driver_and_gives_it_back_at_release()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.GraceBlackwell4Gpu);
        var h = new HookHarness(root, qemu: (10, 0));
        File.WriteAllText(h.ConfigPath, $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><bind-managed-no enabled='yes'/><log target='file' path='{h.LogPath}'/></libvirt-nvlink>");
        var xml = DomainTransformer.Transform(Domain(gpus: Gb2), Gb, Options("9.0.0", (10, 0))).Xml;
        var run = h.Run(xml, "g", "prepare", "begin", "-");
        Assert.Equal(GraceGpu.VariantDriver, File.ReadAllText(Path.Combine(root, "sys/bus/pci/devices/0018:01:00.0/driver_override")));
        Assert.Equal("0018:01:00.0", File.ReadAllText(Path.Combine(root, "sys/bus/pci/drivers/vfio-pci/unbind")));
        Assert.Contains($"bound 0018:01:00.0 to {GraceGpu.VariantDriver}", run.Log, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.Stderr);

        Assert.Equal(0, h.Run(xml, "g", "release", "end", "destroyed").ExitCode);
        Assert.Equal("\n", File.ReadAllText(Path.Combine(root, "sys/bus/pci/devices/0018:01:00.0/driver_override")));
    }
}
