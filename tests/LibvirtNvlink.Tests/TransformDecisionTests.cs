using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// Decisions the transform used to make silently or wrongly (issue #12, item 3): a missing arch, nodesets in
/// libvirt's full syntax, and one answer for a too-small highmem-mmio-size.
/// </summary>
public class TransformDecisionTests
{
    private static HostTopology Ac922 => SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);

    private static HostTopology Gb => SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu);

    private static readonly TransformOptions Nv2Options = new(MemlockMode.Write, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption));

    private static TransformOptions GraceOptions((int, int) qemu) =>
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption), new TargetQemu(qemu, TargetQemu.FromOption));

    private static string Pseries(string type) => $"""
        <domain type='kvm'>
          <name>noarch</name>
          <memory unit='GiB'>64</memory>
          <os>
            {type}
          </os>
          <devices>
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <source>
                <address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/>
              </source>
            </hostdev>
          </devices>
        </domain>
        """;

    [Fact]
    public void A_pseries_domain_without_arch_takes_the_hosts_arch_as_libvirt_does_and_says_so()
    {
        var input = Pseries("<type machine='pseries'>hvm</type>");
        var result = DomainTransformer.Transform(input, Ac922, Nv2Options);
        Assert.True(result.Changed);
        Assert.Contains(result.Messages, m => m.Contains("assuming arch='ppc64le'", StringComparison.Ordinal));
        // The XML is not given an arch: the assumption is libvirt's to make again at define.
        Assert.Contains("<type machine='pseries'>hvm</type>", result.Xml, StringComparison.Ordinal);
        Assert.Equal(input, DomainTransformer.Undo(result.Xml).Xml);
    }

    [Theory]
    [InlineData("<type machine='pseries'>hvm</type>", null, "ppc64le")]
    [InlineData("<type machine='pseries'>hvm</type>", "x86_64", "ppc64")]
    [InlineData("<type machine='virt'>hvm</type>", "aarch64", "aarch64")]
    [InlineData("<type>hvm</type>", "ppc64le", "ppc64le")]
    public void The_missing_arch_follows_libvirts_lookup(string type, string? hostArch, string expected)
    {
        var d = DomainDefinition.Parse(Pseries(type).Replace("<devices>", "<devices>\n    <emulator>/usr/bin/qemu-system-" + (type.Contains("virt", StringComparison.Ordinal) ? "aarch64" : "ppc64") + "</emulator>", StringComparison.Ordinal));
        Assert.NotNull(GuestArch.Resolve(d, hostArch ?? "ppc64le"));
        Assert.Equal(expected, d.Arch);
        Assert.Null(d.WrittenArch);
    }

    [Fact]
    public void A_domain_without_arch_whose_machine_is_not_pseries_is_refused_naming_the_element()
    {
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(Pseries("<type machine='q35'>hvm</type>"), Ac922, Nv2Options));
        Assert.Contains("arch='ppc64le' machine='q35' in <os><type>", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3", new[] { 3 })]
    [InlineData("0-3,^1", new[] { 0, 2, 3 })]
    [InlineData(" 1 - 3 , 7 ", new[] { 1, 2, 3, 7 })]
    [InlineData("^2,1-3", new[] { 1, 2, 3 })]
    [InlineData("0-2,^1,1", new[] { 0, 1, 2 })]
    [InlineData("^1", new int[0])]
    public void Nodesets_are_read_in_libvirts_full_syntax(string text, int[] nodes)
    {
        Assert.True(Nodeset.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(nodes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1,")]
    [InlineData("3-1")]
    [InlineData("^1-2")]
    [InlineData("a")]
    [InlineData("1;2")]
    [InlineData("99999")]
    public void Malformed_nodesets_are_refused(string text) => Assert.False(Nodeset.TryParse(text, out _, out _));

    private static string GraceWithNumatune(string nodeset) => $"""
        <domain type='kvm'>
          <name>pinned</name>
          <memory unit='GiB'>16</memory>
          <vcpu>4</vcpu>
          <os>
            <type arch='aarch64' machine='virt'>hvm</type>
          </os>
          <numatune>
            <memnode cellid='0' mode='strict' nodeset='{nodeset}'/>
          </numatune>
          <cpu>
            <numa>
              <cell id='0' cpus='0-3' memory='16' unit='GiB'/>
            </numa>
          </cpu>
          <devices>
            <hostdev mode='subsystem' type='pci' managed='no'>
              <source>
                <address domain='0x0008' bus='0x01' slot='0x00' function='0x0'/>
              </source>
            </hostdev>
          </devices>
        </domain>
        """;

    [Theory]
    [InlineData("^1")]
    [InlineData("1-")]
    public void A_numatune_nodeset_that_names_no_host_node_is_refused_naming_the_element(string nodeset)
    {
        var e = Assert.Throws<TransformException>(() => DomainTransformer.Transform(GraceWithNumatune(nodeset), Gb, GraceOptions((9, 2))));
        Assert.Contains($"<numatune><memnode cellid='0' nodeset='{nodeset}'/>", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_numatune_nodeset_with_an_exclusion_pins_the_distances_to_the_first_node_left()
    {
        var result = DomainTransformer.Transform(GraceWithNumatune("0-1,^0"), Gb, GraceOptions((9, 2)));
        var expected = DomainTransformer.Transform(GraceWithNumatune("1"), Gb, GraceOptions((9, 2)));
        Assert.Equal(expected.Xml.Replace("0-1,^0", "1", StringComparison.Ordinal), result.Xml.Replace("0-1,^0", "1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1T", HighmemMmioVerdict.TooSmall)]
    [InlineData("2T", HighmemMmioVerdict.TooSmall)]
    [InlineData("768G", HighmemMmioVerdict.Invalid)]
    [InlineData("256G", HighmemMmioVerdict.Invalid)]
    [InlineData("4T", HighmemMmioVerdict.Enough)]
    public void Transform_and_preflight_give_one_answer_for_a_users_highmem_mmio_size(string size, HighmemMmioVerdict verdict)
    {
        PciAddress[] four = [PciAddress.Parse("0008:01:00.0"), PciAddress.Parse("0009:01:00.0"), PciAddress.Parse("0018:01:00.0"), PciAddress.Parse("0019:01:00.0")];
        var hostdevs = string.Concat(four.Select(a =>
            $"<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x{a.Domain:x4}' bus='0x{a.Bus:x2}' slot='0x00' function='0x0'/></source></hostdev>"));
        var input = "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>mmio</name><memory unit='GiB'>16</memory><vcpu>4</vcpu>" +
                    "<os><type arch='aarch64' machine='virt'>hvm</type></os><devices>" + hostdevs + "</devices>" +
                    $"<qemu:commandline><qemu:arg value='-machine'/><qemu:arg value='highmem-mmio-size={size}'/></qemu:commandline></domain>";
        var preflight = GracePreflight.Check(DomainDefinition.Parse(input), Gb,
            new PreflightFacts(new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption), "6.11.0", (10, 0), () => [], [], new HashSet<PciAddress>()))
            .Where(f => f.Code.StartsWith("grace-mmio-window", StringComparison.Ordinal)).ToList();
        switch (verdict)
        {
            case HighmemMmioVerdict.Enough:
                Assert.Empty(preflight);
                Assert.DoesNotContain(DomainTransformer.Transform(input, Gb, GraceOptions((10, 0))).Messages, m => m.Contains("highmem-mmio-size", StringComparison.Ordinal));
                break;
            case HighmemMmioVerdict.TooSmall:
                var warning = Assert.Single(preflight);
                var said = Assert.Single(DomainTransformer.Transform(input, Gb, GraceOptions((10, 0))).Messages, m => m.Contains("highmem-mmio-size gives", StringComparison.Ordinal));
                Assert.Equal(warning.Message.Replace("Domain ", "", StringComparison.Ordinal), said.Replace("warning: domain ", "", StringComparison.Ordinal));
                break;
            case HighmemMmioVerdict.Invalid:
                var error = Assert.Single(preflight);
                Assert.Equal(Severity.Error, error.Severity);
                var refusal = Assert.Throws<TransformException>(() => DomainTransformer.Transform(input, Gb, GraceOptions((10, 0))));
                Assert.Equal(error.Message.Replace("Domain ", "", StringComparison.Ordinal), refusal.Message.Replace("domain ", "", StringComparison.Ordinal));
                break;
        }
    }
}
