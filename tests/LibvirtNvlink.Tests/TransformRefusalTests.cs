using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Tests;

/// <summary>Input the transformer must refuse, with the device and the fix in the message, writing nothing.</summary>
public class TransformRefusalTests
{
    private static readonly TransformOptions Options = new(MemlockMode.Write, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption));

    private static TransformResult Run(string xml, HostLayout? host = null) =>
        DomainTransformer.Transform(xml, SimulatedHosts.Topology(host ?? BuiltInLayouts.Witherspoon6Gpu), Options);

    private static string Pseries(string devices, string arch = "ppc64le", string machine = "pseries") => $"""
        <domain type='kvm'>
          <name>refused</name>
          <memory unit='GiB'>8</memory>
          <os><type arch='{arch}' machine='{machine}'>hvm</type></os>
          <devices>
        {devices}
          </devices>
        </domain>
        """;

    private static string Hostdev(string source, string? guest = null) =>
        $"<hostdev mode='subsystem' type='pci' managed='yes'><source><address {source}/></source>{(guest is null ? "" : $"<address type='pci' {guest}/>")}</hostdev>";

    private const string Gpu0 = "domain='0x0004' bus='0x04' slot='0x00' function='0x0'";
    private const string Bridge00 = "domain='0x0006' bus='0x00' slot='0x00' function='0x0'";

    [Fact]
    public void Not_a_domain()
    {
        var e = Assert.Throws<DomainXmlException>(() => Run("<network><name>x</name></network>"));
        Assert.Contains("not <domain>", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_well_formed()
    {
        var e = Assert.Throws<DomainXmlException>(() => Run("<domain><name>x</domain>"));
        Assert.Contains("not well-formed", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>")]
    [InlineData("<!DOCTYPE domain [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]><domain><name>&b;</name></domain>")]
    [InlineData("<!DOCTYPE domain SYSTEM 'http://example.invalid/domain.dtd'><domain><name>x</name></domain>")]
    [InlineData("\uFEFF<?xml version='1.0'?>\n<!-- a comment -->\n<?pi x?>\n<!DOCTYPE domain [<!ENTITY x 'y'>]><domain><name>&x;</name></domain>")]
    public void DTDs_and_entities_are_refused_never_resolved(string xml)
    {
        var e = Assert.Throws<DomainXmlException>(() => Run(xml));
        // Our own words, told apart from the parser's (translated) message by the document's prolog.
        Assert.Contains("refusing XML with a DTD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_DOCTYPE_inside_a_comment_is_not_taken_for_a_DTD()
    {
        var e = Assert.Throws<DomainXmlException>(() => Run("<!-- <!DOCTYPE domain> --><domain><name>x</name>"));
        Assert.Contains("not well-formed", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("domain='0x0004' bus='0x04' slot='0x20' function='0x0'", "slot")]
    [InlineData("domain='0x0004' bus='0x100' slot='0x00' function='0x0'", "bus")]
    [InlineData("domain='0x0004' bus='0x04' slot='0x00' function='0x8'", "function")]
    [InlineData("domain='0x0004' bus='zz' slot='0x00' function='0x0'", "bus='zz'")]
    public void Unparsable_or_out_of_range_PCI_addresses(string source, string named)
    {
        var e = Assert.Throws<DomainXmlException>(() => Run(Pseries(Hostdev(source))));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_address_that_is_not_on_this_host()
    {
        var e = Assert.Throws<TransformException>(() => Run(Pseries(Hostdev(Gpu0) + Hostdev("domain='0x0004' bus='0x07' slot='0x00' function='0x0'"))));
        Assert.Contains("0004:07:00.0 is not on this host", e.Message, StringComparison.Ordinal);
        Assert.Contains("0004:04:00.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bridge_already_assigned_on_another_PHB_than_its_GPU()
    {
        const string phbs = "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/></controller>" +
                            "<controller type='pci' index='2' model='pci-root'><model name='spapr-pci-host-bridge'/></controller>";
        var xml = Pseries(phbs + Hostdev(Gpu0, "domain='0x0000' bus='0x01' slot='0x01' function='0x0'") +
                          Hostdev(Bridge00, "domain='0x0000' bus='0x02' slot='0x01' function='0x0'"));
        var e = Assert.Throws<TransformException>(() => Run(xml));
        Assert.Contains("split across guest PHBs", e.Message, StringComparison.Ordinal);
        Assert.Contains("0006:00:00.0 on bus 0x02", e.Message, StringComparison.Ordinal);
        Assert.Contains("same bus", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compound_group_members_placed_inconsistently()
    {
        const string phbs = "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/></controller>" +
                            "<controller type='pci' index='2' model='pci-root'><model name='spapr-pci-host-bridge'/></controller>";
        var xml = Pseries(phbs + Hostdev(Gpu0, "domain='0x0000' bus='0x01' slot='0x01' function='0x0'") +
                          Hostdev("domain='0x0004' bus='0x05' slot='0x00' function='0x0'", "domain='0x0000' bus='0x02' slot='0x01' function='0x0'"));
        var e = Assert.Throws<TransformException>(() => Run(xml, BuiltInLayouts.Witherspoon4GpuCompound));
        Assert.Contains("host IOMMU group 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_IOMMU_groups_on_one_user_PHB()
    {
        const string phb = "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/></controller>";
        var xml = Pseries(phb + Hostdev(Gpu0, "domain='0x0000' bus='0x01' slot='0x01' function='0x0'") +
                          Hostdev("domain='0x0035' bus='0x03' slot='0x00' function='0x0'", "domain='0x0000' bus='0x01' slot='0x02' function='0x0'"));
        var e = Assert.Throws<TransformException>(() => Run(xml));
        Assert.Contains("one host IOMMU group per PHB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_placed_on_the_default_PHB()
    {
        var e = Assert.Throws<TransformException>(() => Run(Pseries(Hostdev(Gpu0, "domain='0x0000' bus='0x00' slot='0x05' function='0x0'"))));
        Assert.Contains("default PHB", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x86_64", "q35")]
    [InlineData("aarch64", "virt")]
    [InlineData("ppc64le", "powernv")]
    public void A_non_pseries_domain_with_an_NV2_GPU(string arch, string machine)
    {
        var e = Assert.Throws<TransformException>(() => Run(Pseries(Hostdev(Gpu0), arch, machine)));
        Assert.Contains("0004:04:00.0", e.Message, StringComparison.Ordinal);
        Assert.Contains("arch='ppc64' machine='pseries'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_whose_bridge_is_missing_from_the_host()
    {
        var e = Assert.Throws<TransformException>(() => Run(Pseries(Hostdev("domain='0x0004' bus='0x05' slot='0x00' function='0x0'")), BuiltInLayouts.WitherspoonBroken));
        Assert.Contains("0004:05:00.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compound_group_warns_that_its_other_GPU_is_taken_too()
    {
        var r = Run(Pseries(Hostdev(Gpu0)), BuiltInLayouts.Witherspoon4GpuCompound);
        Assert.Contains(r.Messages, m => m.StartsWith("warning: IOMMU group 7 also holds GPU 0004:05:00.0", StringComparison.Ordinal));
    }

    [Fact]
    public void Bridges_without_their_GPU_are_left_alone_with_a_warning()
    {
        var r = Run(Pseries(Hostdev(Bridge00)));
        Assert.Contains(r.Messages, m => m.Contains("without the GPU", StringComparison.Ordinal));
        Assert.DoesNotContain("0x0006' bus='0x00' slot='0x00' function='0x1'", r.Xml, StringComparison.Ordinal);
    }
}
