using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;
using static LibvirtNvlink.Tests.GraceMemlockDomains;

namespace LibvirtNvlink.Tests;

/// <summary>
/// What a Grace guest locks against what libvirt sets on its own: guest RAM once per DMA address space and backend,
/// the GPUs' BARs once per iommufd IOAS, 1 GiB — and libvirt's factor × RAM + 1 GiB.
/// </summary>
public class GraceMemlockTests
{
    private static readonly LibvirtVersion Libvirt12 = new(12, 8, 0);
    private static readonly LibvirtVersion Libvirt86 = new(8, 6, 0);

    private const ulong GiB = 1UL << 20;

    /// <summary>The simulated GH200's BARs as sysfs shows them: 16 MiB + 1 GiB + 128 GiB, in KiB.</summary>
    private const ulong Gh200BarKiB = (16UL << 10) + (1UL << 20) + (128UL << 20);

    /// <summary>Each simulated GB200's BARs: 64 MiB + 256 GiB, in KiB.</summary>
    private const ulong Gb200BarKiB = (64UL << 10) + (256UL << 20);

    private static HostTopology Gh => SimulatedHosts.Topology(BuiltInLayouts.GraceHopper1Gpu);

    private static HostTopology Gb => SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu);

    private static GraceMemlockResult Compute(string xml, HostTopology host, LibvirtVersion? libvirt = null, string? kernel = "6.8.0-1013-nvidia-64k") =>
        GraceMemlock.Compute(DomainDefinition.Parse(xml), host, libvirt ?? Libvirt12, kernel);

    [Fact]
    public void With_the_legacy_container_and_no_viommu_libvirts_figure_is_exactly_what_is_pinned()
    {
        var r = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.Legacy), Gh);
        Assert.Equal(GraceMemlockReason.LibvirtCovers, r.Reason);
        Assert.False(r.HardLimitNeeded);
        Assert.Equal(17 * GiB, r.NeedKiB);
        Assert.Equal(r.Libvirt.Bytes, r.NeedBytes);
        Assert.Equal(0UL, r.Term("barCopies"));
        Assert.Contains(r.Notes, n => n.Contains("type1 does not charge", StringComparison.Ordinal));
    }

    [Fact]
    public void With_iommufd_the_GPU_BARs_are_charged_once_and_libvirts_figure_falls_short()
    {
        var r = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev), Gh);
        Assert.Equal(GraceMemlockReason.IommufdBars, r.Reason);
        Assert.True(r.HardLimitNeeded);
        Assert.Equal(17UL << 30, r.Libvirt.Bytes);
        Assert.Equal(16 * GiB + Gh200BarKiB + GiB, r.NeedKiB);
        Assert.Equal(1UL, r.Term("iommufdSpaces"));
        Assert.Equal(1UL, r.Term("barCopies"));
    }

    [Fact]
    public void A_domain_wide_iommufd_counts_like_the_per_hostdev_attribute_and_a_hostdev_can_opt_out()
    {
        var perHostdev = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev), Gh);
        var domainWide = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdDomainWide), Gh);
        Assert.Equal(perHostdev.NeedBytes, domainWide.NeedBytes);
        var optOut = GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdDomainWide)
            .Replace("managed='no'>", "managed='no'><driver iommufd='no'/>", StringComparison.Ordinal);
        var legacy = Compute(optOut, Gh);
        Assert.Equal(0UL, legacy.Term("iommufdSpaces"));
        Assert.Equal(GraceMemlockReason.LibvirtCovers, legacy.Reason);
    }

    [Fact]
    public void Libvirt_counts_guest_RAM_per_device_with_an_iommu_since_8_7_while_accelerated_smmus_pin_it_once()
    {
        var xml = GuestXml(64 * 1024, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev);
        var r = Compute(xml, Gb);
        Assert.Equal(4UL, r.Term("libvirtFactor"));
        Assert.Equal((4 * 64 + 1) * GiB, r.Libvirt.Bytes >> 10);
        Assert.Equal(1UL, r.Term("iommufdSpaces"));
        Assert.Equal(1UL, r.Term("ramCopies"));
        Assert.Equal(64 * GiB + 4 * Gb200BarKiB + GiB, r.NeedKiB);

        var old = Compute(xml, Gb, Libvirt86);
        Assert.Equal(1UL, old.Term("libvirtFactor"));
        Assert.Equal(65 * GiB, old.Libvirt.Bytes >> 10);
    }

    [Fact]
    public void One_GPU_behind_an_accelerated_smmu_needs_a_hard_limit_four_do_not_because_libvirt_counts_their_RAM_four_times()
    {
        var one = Compute(GuestXml(480 * 1024, [Gb200[0]], GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb);
        Assert.Equal(GraceMemlockReason.IommufdBars, one.Reason);
        Assert.Equal(481 * GiB, one.Libvirt.Bytes >> 10);
        Assert.Equal(480 * GiB + Gb200BarKiB + GiB, one.NeedKiB);

        var four = Compute(GuestXml(480 * 1024, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb);
        Assert.Equal(GraceMemlockReason.LibvirtCovers, four.Reason);
        Assert.False(four.HardLimitNeeded);
        Assert.Equal(1921 * GiB, four.Libvirt.Bytes >> 10);
        Assert.Equal(480 * GiB + 4 * Gb200BarKiB + GiB, four.NeedKiB);
    }

    [Theory]
    // 4R + 1 GiB against R + 4 × (256 GiB + 64 MiB) + 1 GiB: libvirt covers from 3R ≥ 1024.25 GiB, R ≥ 349610.67 MiB.
    [InlineData(349_610, true)]
    [InlineData(349_611, false)]
    public void Four_GB200s_need_a_hard_limit_exactly_below_the_RAM_where_libvirts_four_copies_cover_their_BARs(ulong memoryMiB, bool needed)
    {
        var r = Compute(GuestXml(memoryMiB, Gb200, GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb);
        Assert.Equal(needed, r.HardLimitNeeded);
        Assert.Equal(needed, r.Libvirt.Bytes < r.NeedBytes);
    }

    [Fact]
    public void Behind_a_plain_viommu_every_device_has_its_own_address_space_and_libvirts_factor_matches()
    {
        var legacy = Compute(GuestXml(32 * 1024, Gb200[..2], GuestIommuLayout.PlainSmmuPerExpander, GuestVfioBackend.Legacy), Gb);
        Assert.Equal(2UL, legacy.Term("legacyContainers"));
        Assert.Equal(legacy.Libvirt.Bytes, legacy.NeedBytes);
        Assert.Equal(GraceMemlockReason.LibvirtCovers, legacy.Reason);

        var viaIommufd = Compute(GuestXml(32 * 1024, Gb200[..2], GuestIommuLayout.PlainSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev), Gb);
        Assert.Equal(2UL, viaIommufd.Term("iommufdSpaces"));
        Assert.Equal(2UL, viaIommufd.Term("barCopies"));
        Assert.Equal(2 * 32 * GiB + 2 * 2 * Gb200BarKiB + GiB, viaIommufd.NeedKiB);

        var virtio = Compute(GuestXml(32 * 1024, Gb200[..2], GuestIommuLayout.VirtioIommu, GuestVfioBackend.Legacy), Gb);
        Assert.Equal(2UL, virtio.Term("ramCopies"));
    }

    [Fact]
    public void Iommufd_and_legacy_hostdevs_side_by_side_pin_guest_RAM_twice_which_libvirt_counts_once()
    {
        var xml = GuestXml(32 * 1024, Gb200[..2], GuestIommuLayout.Flat, GuestVfioBackend.Legacy);
        var first = xml.IndexOf("managed='no'>", StringComparison.Ordinal) + "managed='no'>".Length;
        var mixed = xml.Insert(first, "<driver iommufd='yes'/>");
        var r = Compute(mixed, Gb);
        Assert.Equal(1UL, r.Term("iommufdSpaces"));
        Assert.Equal(1UL, r.Term("legacyContainers"));
        Assert.Equal(GraceMemlockReason.RamCopies, r.Reason);
        Assert.Equal(2 * 32 * GiB + 2 * Gb200BarKiB + GiB, r.NeedKiB);
    }

    [Fact]
    public void Libvirt_before_8_7_counts_RAM_once_even_where_every_device_pins_it()
    {
        var r = Compute(GuestXml(32 * 1024, Gb200[..2], GuestIommuLayout.VirtioIommu, GuestVfioBackend.Legacy), Gb, Libvirt86);
        Assert.Equal(GraceMemlockReason.RamCopies, r.Reason);
        Assert.Contains("counts guest RAM once but it is pinned 2 times", r.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Locked_memory_is_unlimited_so_nothing_is_needed_and_a_hard_limit_does_not_change_libvirts_own_figure()
    {
        var locked = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev,
            "\n  <memoryBacking><locked/></memoryBacking>"), Gh);
        Assert.Equal(GraceMemlockReason.Unlimited, locked.Reason);
        Assert.False(locked.HardLimitNeeded);

        var limited = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev,
            "\n  <memtune><hard_limit unit='GiB'>1000</hard_limit></memtune>"), Gh);
        Assert.Equal(MemlockRules.GenericVfio, limited.Libvirt.Rule);
        Assert.True(limited.HardLimitNeeded);
    }

    [Theory]
    [InlineData("6.8.0-1013-nvidia-64k", IommufdBarKernel.NvidiaKernel, "Bypass PFNMAP")]
    [InlineData("6.17.0-1018-nvidia-64k", IommufdBarKernel.NvidiaKernel, "Avoid including VM_PFNMAP memory from RLIMIT_MEMLOCK")]
    [InlineData("6.12.43+deb13-arm64", IommufdBarKernel.OtherKernel, "since 6.19 they are mapped through a dma-buf")]
    [InlineData(null, IommufdBarKernel.UnknownKernel, "release is unknown")]
    public void Every_kernel_is_taken_to_charge_iommufd_mapped_BARs_and_the_note_says_why(string? release, IommufdBarKernel kernel, string because)
    {
        Assert.Equal(kernel, IommufdBarAccounting.Classify(release));
        var r = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev), Gh, kernel: release);
        Assert.Equal(1UL, r.Term("barCopies"));
        Assert.Contains(r.Notes, n => n.Contains(because, StringComparison.Ordinal));
    }

    [Fact]
    public void The_legacy_container_never_charges_BARs_whatever_the_kernel()
    {
        foreach (var release in new[] { "6.8.0-1013-nvidia-64k", "6.12.43+deb13-arm64", null })
        {
            var r = Compute(GuestXml(16 * 1024, [Gh200], GuestIommuLayout.Flat, GuestVfioBackend.Legacy), Gh, kernel: release);
            Assert.Equal(0UL, r.Term("barCopies"));
            Assert.Equal(GraceMemlockReason.LibvirtCovers, r.Reason);
        }
    }

    [Fact]
    public void A_hostdev_without_an_address_is_not_taken_to_be_behind_an_expanders_smmu()
    {
        var xml = GuestXml(16 * 1024, [Gb200[0]], GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.IommufdPerHostdev)
            .Replace("<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></hostdev>", "</hostdev>", StringComparison.Ordinal);
        var r = Compute(xml, Gb);
        Assert.Equal(1UL, r.Term("iommufdSpaces"));
        Assert.Contains(r.Terms, t => t.Name == "iommufdSpaces");
        Assert.DoesNotContain(r.Notes, n => n.Contains("accelerated SMMUv3 but uses the legacy", StringComparison.Ordinal));
    }

    [Fact]
    public void A_legacy_hostdev_behind_an_accelerated_smmu_is_told_to_use_iommufd()
    {
        var r = Compute(GuestXml(16 * 1024, [Gb200[0]], GuestIommuLayout.AcceleratedSmmuPerExpander, GuestVfioBackend.Legacy), Gb);
        Assert.Contains(r.Notes, n => n.Contains("hostdev 0008:01:00.0 sits behind an accelerated SMMUv3 but uses the legacy VFIO container", StringComparison.Ordinal));
    }
}
