using System.Text;
using CsCheck;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>Over generated hosts and domains: transform is idempotent and --undo inverts it exactly.</summary>
public class TransformPropertyTests
{
    private static readonly HostLayout[] Hosts = [BuiltInLayouts.Witherspoon6Gpu, BuiltInLayouts.Witherspoon4GpuCompound];

    private sealed record Case(HostLayout Host, string Xml, TransformOptions Options)
    {
        public override string ToString() => $"host {Host.Name}, memlock {Options.Memlock}, libvirt {Options.Target.Version} ({Options.Target.Source})\n{Xml}";
    }

    private static readonly Gen<TransformOptions> OptionsGen =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], (m, v) => new TransformOptions(
            (MemlockMode)m,
            v switch
            {
                0 => new TargetLibvirt(new LibvirtVersion(5, 2, 0), TargetLibvirt.FromOption),
                1 => new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption),
                _ => new TargetLibvirt(LibvirtVersion.Assumed, TargetLibvirt.FromAssumption),
            }));

    private static readonly Gen<Case> CaseGen =
        from hostIndex in Gen.Int[0, Hosts.Length - 1]
        from gpuMask in Gen.UInt
        from bridgeMask in Gen.UInt
        from managed in Gen.Bool
        from memGiB in Gen.Int[1, 512]
        from maxMem in Gen.Bool
        from hardLimitGiB in Gen.Int[0, 2048]
        from hardLimitKind in Gen.Int[0, 3]
        from locked in Gen.Bool
        from emptyPhb in Gen.Bool
        from compact in Gen.Bool
        from withMetadata in Gen.Bool
        from options in OptionsGen
        select Build(Hosts[hostIndex], gpuMask, bridgeMask, managed, memGiB, maxMem, hardLimitGiB, hardLimitKind, locked, emptyPhb, compact, withMetadata, options);

    private static Case Build(HostLayout layout, uint gpuMask, uint bridgeMask, bool managed, int memGiB, bool maxMem,
        int hardLimitGiB, int hardLimitKind, bool locked, bool emptyPhb, bool compact, bool withMetadata, TransformOptions options)
    {
        var topology = SimulatedHosts.Topology(layout);
        var gpus = topology.Gpus.Where((_, i) => (gpuMask & (1u << i)) != 0).ToList();
        var nl = compact ? "" : "\n";
        var ind = compact ? "" : "    ";
        var sb = new StringBuilder();
        sb.Append("<domain type='kvm'>").Append(nl);
        sb.Append(ind).Append("<name>generated</name>").Append(nl);
        if (withMetadata) sb.Append(ind).Append("<metadata><x:y xmlns:x='urn:example'>keep</x:y></metadata>").Append(nl);
        if (maxMem) sb.Append(ind).Append("<maxMemory slots='4' unit='GiB'>1024</maxMemory>").Append(nl);
        sb.Append(ind).Append($"<memory unit='GiB'>{memGiB}</memory>").Append(nl);
        if (hardLimitKind == 1) sb.Append(ind).Append($"<memtune><hard_limit unit='GiB'>{hardLimitGiB}</hard_limit></memtune>").Append(nl);
        if (hardLimitKind == 2) sb.Append(ind).Append("<memtune><soft_limit unit='GiB'>1</soft_limit></memtune>").Append(nl);
        if (locked) sb.Append(ind).Append("<memoryBacking><locked/></memoryBacking>").Append(nl);
        sb.Append(ind).Append("<os><type arch='ppc64le' machine='pseries'>hvm</type></os>").Append(nl);
        sb.Append(ind).Append("<devices>").Append(nl);
        if (emptyPhb) sb.Append(ind).Append(ind).Append("<controller type='pci' index='3' model='pci-root'><model name='spapr-pci-host-bridge'/><target index='3'/></controller>").Append(nl);
        var bit = 0;
        foreach (var g in gpus)
        {
            sb.Append(ind).Append(ind).Append(Hostdev(g.Address.ToString(), managed));
            foreach (var b in g.Bridges)
            {
                if ((bridgeMask & (1u << (bit++ % 32))) != 0) sb.Append(ind).Append(ind).Append(Hostdev(b.ToString(), managed));
            }
            sb.Append(nl);
        }
        sb.Append(ind).Append("</devices>").Append(nl);
        sb.Append("</domain>").Append(nl);
        return new Case(layout, sb.ToString(), options);
    }

    private static string Hostdev(string address, bool managed)
    {
        var a = Pci.PciAddress.Parse(address);
        return $"<hostdev mode='subsystem' type='pci' managed='{(managed ? "yes" : "no")}'><source><address domain='0x{a.Domain:x4}' bus='0x{a.Bus:x2}' slot='0x{a.Slot:x2}' function='0x{a.Function:x}'/></source></hostdev>";
    }

    private static HostTopology Topology(Case c) => SimulatedHosts.Topology(c.Host);

    [Fact]
    public void Transform_is_idempotent()
    {
        CaseGen.Sample(c =>
        {
            var once = DomainTransformer.Transform(c.Xml, Topology(c), c.Options);
            var twice = DomainTransformer.Transform(once.Xml, Topology(c), c.Options);
            return !twice.Changed && twice.Xml == once.Xml;
        }, iter: 300);
    }

    [Fact]
    public void Undo_inverts_transform_exactly()
    {
        CaseGen.Sample(c =>
        {
            var once = DomainTransformer.Transform(c.Xml, Topology(c), c.Options);
            var back = once.Changed ? DomainTransformer.Undo(once.Xml).Xml : once.Xml;
            return back == c.Xml;
        }, iter: 300);
    }

    [Fact]
    public void Every_transformed_GPU_ends_with_all_its_bridges_on_one_PHB_of_its_own()
    {
        CaseGen.Sample(c =>
        {
            var t = Topology(c);
            var output = DomainTransformer.Transform(c.Xml, t, c.Options).Xml;
            var d = DomainDefinition.Parse(output);
            var hostdevs = d.PciHostdevs();
            foreach (var gpu in t.Gpus.Where(g => hostdevs.Any(h => h.Source == g.Address)))
            {
                var members = hostdevs.Where(h => h.Source == gpu.Address || gpu.Bridges.Contains(h.Source)).ToList();
                if (members.Count != gpu.Bridges.Count + 1) return false;
                var buses = members.Select(h => h.GuestAddress?.Bus).Distinct().ToList();
                if (buses.Count != 1 || buses[0] is null or 0) return false;
                var others = hostdevs.Where(h => h.GuestAddress?.Bus == buses[0] && t.IommuGroupOf(h.Source) != gpu.IommuGroup);
                if (others.Any()) return false;
            }
            return true;
        }, iter: 200);
    }
}
