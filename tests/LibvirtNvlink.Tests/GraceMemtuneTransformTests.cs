using System.Globalization;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;
using static LibvirtNvlink.Tests.GraceMemlockDomains;

namespace LibvirtNvlink.Tests;

/// <summary>
/// transform --memlock for Grace domains: auto writes &lt;hard_limit&gt; exactly when libvirt's own figure, computed on
/// the transformed XML, falls short of what the guest locks; write always; never not at all; undo takes it back.
/// </summary>
public class GraceMemtuneTransformTests
{
    private const ulong GiB = 1UL << 20;
    private const ulong Gh200BarKiB = (16UL << 10) + (1UL << 20) + (128UL << 20);
    private const ulong Gb200BarKiB = (64UL << 10) + (256UL << 20);

    private static HostTopology Gh => SimulatedHosts.Topology(BuiltInLayouts.GraceHopper1Gpu);

    private static HostTopology Gb => SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu);

    private static TransformOptions Options(MemlockMode mode, string? libvirt = "12.8.0") =>
        new(mode,
            libvirt is null
                ? new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromAssumption)
                : new TargetLibvirt(LibvirtVersion.TryParse(libvirt, out var v) ? v : default, TargetLibvirt.FromOption),
            new TargetQemu((11, 1), TargetQemu.FromOption),
            // Each test writes the layout and backend it is about; the transform must not lay the GPUs out anew.
            GracePciLayout.Flat);

    private static string HardLimit(ulong kib) => $"<hard_limit unit='KiB'>{kib.ToString(CultureInfo.InvariantCulture)}</hard_limit>";

    [Fact]
    public void Auto_writes_the_requirement_when_libvirt_leaves_out_the_iommufd_BARs_says_why_and_undo_takes_it_back()
    {
        var input = GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev);
        var r = DomainTransformer.Transform(input, Gh, Options(MemlockMode.Auto));
        Assert.Contains(HardLimit(16 * GiB + Gh200BarKiB + GiB), r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.Contains("leaves out the", StringComparison.Ordinal) && m.Contains("written as <hard_limit>", StringComparison.Ordinal));

        var again = DomainTransformer.Transform(r.Xml, Gh, Options(MemlockMode.Auto));
        Assert.False(again.Changed);
        Assert.Contains(again.Messages, m => m.Contains("already covers", StringComparison.Ordinal));
        Assert.Equal(input, DomainTransformer.Undo(r.Xml).Xml);
    }

    [Theory]
    [InlineData(349_610, true)]
    [InlineData(349_611, false)]
    public void Auto_writes_for_four_GB200s_behind_accelerated_smmus_exactly_below_the_RAM_where_libvirts_figure_covers_them(ulong memoryMiB, bool written)
    {
        var r = DomainTransformer.Transform(GuestXml(memoryMiB, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb, Options(MemlockMode.Auto));
        Assert.Equal(written, r.Xml.Contains("<hard_limit", StringComparison.Ordinal));
        if (written)
        {
            Assert.Contains(HardLimit(memoryMiB * 1024 + 4 * Gb200BarKiB + GiB), r.Xml, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(r.Messages, m => m.Contains("covers the", StringComparison.Ordinal) && m.Contains("no <hard_limit> written", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Libvirts_figure_comes_from_the_XML_libvirt_gets_without_the_iommu_four_GPUs_need_the_hard_limit()
    {
        // kubevirt#18915: a vIOMMU libvirt does not see in the XML leaves it at factor 1.
        var withIommu = GuestXml(480 * 1024, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev);
        var withoutIommu = string.Join('\n', withIommu.Split('\n').Where(l => !l.Contains("<iommu ", StringComparison.Ordinal)));
        Assert.DoesNotContain("<hard_limit", DomainTransformer.Transform(withIommu, Gb, Options(MemlockMode.Auto)).Xml, StringComparison.Ordinal);
        var r = DomainTransformer.Transform(withoutIommu, Gb, Options(MemlockMode.Auto));
        Assert.Contains(HardLimit(480 * 1024 * 1024 + 4 * Gb200BarKiB + GiB), r.Xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_writes_nothing_for_the_legacy_container_where_libvirts_figure_is_what_is_pinned()
    {
        var r = DomainTransformer.Transform(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.Legacy), Gh, Options(MemlockMode.Auto));
        Assert.DoesNotContain("<memtune", r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.Contains("no <hard_limit> written (--memlock auto)", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_always_writes_the_requirement_even_where_libvirt_covers_it()
    {
        var r = DomainTransformer.Transform(GuestXml(480 * 1024, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb, Options(MemlockMode.Write));
        Assert.Contains(HardLimit(480 * 1024 * 1024 + 4 * Gb200BarKiB + GiB), r.Xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Never_leaves_memtune_alone_even_where_libvirt_falls_short()
    {
        var r = DomainTransformer.Transform(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev), Gh, Options(MemlockMode.Never));
        Assert.DoesNotContain("<memtune", r.Xml, StringComparison.Ordinal);
        Assert.Contains("memlock: --memlock never: <memtune> left alone.", r.Messages);
    }

    [Fact]
    public void A_larger_hard_limit_of_the_users_is_kept_and_locked_memory_gets_none()
    {
        var user = GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev, "\n  <memtune><hard_limit unit='TiB'>1</hard_limit></memtune>");
        var r = DomainTransformer.Transform(user, Gh, Options(MemlockMode.Auto));
        Assert.Contains("<hard_limit unit='TiB'>1</hard_limit>", r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.Contains("already covers", StringComparison.Ordinal));

        var locked = GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev, "\n  <memoryBacking><locked/></memoryBacking>");
        var l = DomainTransformer.Transform(locked, Gh, Options(MemlockMode.Write));
        Assert.DoesNotContain("<memtune", l.Xml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_smaller_hard_limit_is_raised_and_undo_restores_it_with_its_unit()
    {
        var input = GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev, "\n  <memtune><hard_limit unit='GiB'>20</hard_limit></memtune>");
        var r = DomainTransformer.Transform(input, Gh, Options(MemlockMode.Auto));
        Assert.Contains(HardLimit(16 * GiB + Gh200BarKiB + GiB), r.Xml, StringComparison.Ordinal);
        Assert.Equal(input, DomainTransformer.Undo(r.Xml).Xml);
    }

    [Fact]
    public void An_unknown_target_libvirt_gets_the_requirement_written_to_be_safe()
    {
        var r = DomainTransformer.Transform(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.Legacy), Gh, Options(MemlockMode.Auto, libvirt: null));
        Assert.Contains(HardLimit(17 * GiB), r.Xml, StringComparison.Ordinal);
        Assert.Contains(r.Messages, m => m.Contains("target libvirt version is unknown", StringComparison.Ordinal));
    }
}
