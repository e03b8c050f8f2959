using LibvirtNvlink.Domain;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>The transformer and the preflight refuse the same NVLink2 placements, because both ask <see cref="Nv2Placement"/>.</summary>
public class Nv2PlacementAgreementTests
{
    private static string Placed(int gpuBus, int bridgeBus, bool disk) => $"""
        <domain type='kvm'>
          <name>placed</name>
          <memory unit='GiB'>64</memory>
          <os>
            <type arch='ppc64le' machine='pseries'>hvm</type>
          </os>
          <devices>
            {(disk ? $"<disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/><address type='pci' domain='0x0000' bus='0x{gpuBus:x2}' slot='0x09' function='0x0'/></disk>" : "")}
            <controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/><target index='1'/></controller>
            <controller type='pci' index='2' model='pci-root'><model name='spapr-pci-host-bridge'/><target index='2'/></controller>
            {Hostdev("0x0004", "0x04", gpuBus, 1)}
            {Hostdev("0x0006", "0x00", bridgeBus, 2, "0x0")}
            {Hostdev("0x0006", "0x00", bridgeBus, 3, "0x1")}
          </devices>
        </domain>
        """;

    private static string Hostdev(string domain, string bus, int guestBus, int slot, string function = "0x0") =>
        $"<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='{domain}' bus='{bus}' slot='0x00' function='{function}'/></source>" +
        $"<address type='pci' domain='0x0000' bus='0x{guestBus:x2}' slot='0x{slot:x2}' function='0x0'/></hostdev>";

    [Theory]
    [InlineData(1, 2, false, typeof(Nv2SplitAcrossPhbs), "split-phb")]
    [InlineData(0, 0, false, typeof(Nv2OnDefaultPhb), "default-phb")]
    [InlineData(1, 1, true, typeof(Nv2SharedPhb), null)]
    [InlineData(1, 1, false, null, null)]
    public void Transformer_and_preflight_judge_a_placement_alike(int gpuBus, int bridgeBus, bool disk, Type? problem, string? preflightCode)
    {
        var host = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);
        var xml = Placed(gpuBus, bridgeBus, disk);
        var d = DomainDefinition.Parse(xml);
        var group = host.Gpus.Single(g => g.Address == PciAddress.Parse("0004:04:00.0")).IommuGroup!.Value;
        var problems = Nv2Placement.Check(d, host, group);
        var findings = Nv2Preflight.Check(d, host, new PreflightFacts(new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption),
            "5.10.0", (7, 2), () => [], [], new HashSet<PciAddress>()));
        var options = new TransformOptions(MemlockMode.Never, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption));
        if (problem is null)
        {
            Assert.Empty(problems);
            DomainTransformer.Transform(xml, host, options);
            Assert.DoesNotContain(findings, f => f.Code is "split-phb" or "default-phb" or "phb-mixes-groups");
            return;
        }
        Assert.IsType(problem, Assert.Single(problems));
        Assert.Throws<TransformException>(() => DomainTransformer.Transform(xml, host, options));
        // A PHB shared with an emulated disk only is the transformer's concern; the preflight refuses mixed IOMMU groups.
        if (preflightCode is not null) Assert.Contains(findings, f => f.Code == preflightCode);
    }
}
