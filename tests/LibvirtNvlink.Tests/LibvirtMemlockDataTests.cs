using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// libvirt's own memlock test cases as our oracle: each domain XML of libvirt v9.0.0 tests/qemumemlockdata (copied
/// unchanged into LibvirtData/qemumemlockdata) must give the limit libvirt v9.0.0 tests/qemumemlocktest.c asserts
/// for it (DO_TEST(name, bytes)); the data wins over our calculator.
/// </summary>
public class LibvirtMemlockDataTests
{
    private static readonly LibvirtVersion V9 = new(9, 0, 0);

    /// <summary>The libvirt of Debian unstable (12.8.0); its qemumemlocktest.c asserts the same for the files of 9.0.</summary>
    private static readonly LibvirtVersion V12 = new(12, 8, 0);

    /// <summary>VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in bytes as qemuDomainGetMemLockLimitBytes returns it.</summary>
    private const ulong Unlimited = 9007199254740991UL;

    /// <summary>
    /// The host libvirt's test runs on (tests/virpcimock.c): no NVLink2 bridge, and every PCI device in an IOMMU
    /// group of its own, so an unplaced hostdev on pseries gets a PHB of its own.
    /// </summary>
    private sealed class VirPciMockHost : IHostPciFacts
    {
        public bool IsLibvirtNv2Bridge(PciAddress a) => false;

        public int? IommuGroupOf(PciAddress a) => a.Domain * 256 + a.Bus;
    }

    /// <summary>tests/qemumemlocktest.c (libvirt v9.0.0): DO_TEST(name, expected bytes), in its order.</summary>
    public static TheoryData<string, ulong> Cases => new()
    {
        { "pc-kvm", 0 },
        { "pc-tcg", 0 },
        { "pc-hardlimit", 2147483648 },
        { "pc-locked", Unlimited },
        { "pc-hostdev", 2147483648 },
        { "pc-hardlimit+locked", 2147483648 },
        { "pc-hardlimit+hostdev", 2147483648 },
        { "pc-hardlimit+locked+hostdev", 2147483648 },
        { "pc-locked+hostdev", Unlimited },
        { "pseries-kvm", 20971520 },
        { "pseries-tcg", 0 },
        { "pseries-hardlimit", 2147483648 },
        { "pseries-locked", Unlimited },
        { "pseries-hostdev", 4320133120 },
        { "pseries-hardlimit+locked", 2147483648 },
        { "pseries-hardlimit+hostdev", 2147483648 },
        { "pseries-hardlimit+locked+hostdev", 2147483648 },
        { "pseries-locked+hostdev", Unlimited },
    };

    /// <summary>
    /// Files libvirt added after 9.0, with what its current qemumemlocktest.c asserts (DO_TEST(name, bytes)):
    /// pc-hostdev-nvme came with 9.3's separate NVMe term (libvirt commit 5670c50f holds the file).
    /// </summary>
    public static TheoryData<string, ulong> NewerCases => new()
    {
        { "pc-hostdev-nvme", 3221225472 },
    };

    private static string FileOf(string name) =>
        Path.Combine(CliRunner.RepoRoot, "tests", "LibvirtNvlink.Tests", "LibvirtData", "qemumemlockdata", $"qemumemlock-{name}.xml");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_of_libvirts_own_cases_gives_the_limit_libvirts_test_asserts(string name, ulong bytes)
    {
        var domain = DomainDefinition.Parse(File.ReadAllText(FileOf(name)));
        var r = MemlockCalculator.Calculate(domain, new VirPciMockHost(), V9);
        Assert.True(bytes == r.Bytes, $"qemumemlock-{name}.xml: libvirt 9.0.0 asserts {bytes} bytes, we compute {r.Bytes} ({r.Rule}: {string.Join(", ", r.Terms.Select(t => $"{t.Name}={t.Value}"))})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(NewerCases))]
    public void Each_case_gives_what_libvirt_12_asserts_with_the_rules_of_libvirt_12(string name, ulong bytes)
    {
        var domain = DomainDefinition.Parse(File.ReadAllText(FileOf(name)));
        var r = MemlockCalculator.Calculate(domain, new VirPciMockHost(), V12);
        Assert.True(bytes == r.Bytes, $"qemumemlock-{name}.xml: libvirt asserts {bytes} bytes, we compute {r.Bytes} for libvirt 12.8 ({r.Rule}: {string.Join(", ", r.Terms.Select(t => $"{t.Name}={t.Value}"))})");
    }

    [Fact]
    public void Every_file_of_libvirts_data_has_a_row_and_every_row_a_file()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(FileOf("x"))!, "qemumemlock-*.xml")
            .Select(f => Path.GetFileNameWithoutExtension(f)["qemumemlock-".Length..]).Order(StringComparer.Ordinal);
        Assert.Equal(files, Cases.Concat(NewerCases).Select(c => c.Data.Item1).Order(StringComparer.Ordinal));
    }
}
