using System.Text.Json;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

/// <summary>
/// explain's whole text for Grace domains, against golden files (ExplainGolden/NAME.xml → NAME.txt): libvirt's rule
/// term by term, then the Grace requirement, its verdict and the notes on the kernel and iommufd accounting.
/// </summary>
public class ExplainGoldenTests
{
    private static string Dir => Path.Combine(CliRunner.RepoRoot, "tests", "LibvirtNvlink.Tests", "ExplainGolden");

    /// <summary>Each golden domain with the simulated host it is explained on.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "grace-gh200-iommufd", BuiltInLayouts.GraceHopper1Gpu.Name },
        { "grace-gb200x4-accel-smmuv3", BuiltInLayouts.GraceBlackwell4Gpu.Name },
    };

    private static HostLayout Layout(string name) =>
        name == BuiltInLayouts.GraceHopper1Gpu.Name ? BuiltInLayouts.GraceHopper1Gpu : BuiltInLayouts.GraceBlackwell4Gpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explain_prints_libvirts_rule_and_the_Grace_requirement_exactly_as_the_golden_file(string name, string host)
    {
        var r = CliRunner.Run(null, "explain", Path.Combine(Dir, name + ".xml"), "--host-root", SimulatedHosts.PathOf(Layout(host)), "--libvirt-version", "12.8.0");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(Dir, name + ".txt")), r.Stdout);
    }

    [Fact]
    public void Every_golden_domain_has_a_case_and_an_expected_output()
    {
        var names = Directory.GetFiles(Dir, "*.xml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(names, Cases.Select(c => c.Data.Item1).Order(StringComparer.Ordinal));
        Assert.All(names, n => Assert.True(File.Exists(Path.Combine(Dir, n + ".txt")), n));
    }

    [Fact]
    public void Explain_json_carries_the_Grace_requirement_with_its_verdict_terms_and_notes()
    {
        var r = CliRunner.Run(null, "explain", Path.Combine(Dir, "grace-gh200-iommufd.xml"), "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.GraceHopper1Gpu),
            "--libvirt-version", "12.8.0", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(18253611008UL, doc.RootElement.GetProperty("memlockBytes").GetUInt64());
        var grace = doc.RootElement.GetProperty("grace");
        Assert.Equal(156783083520UL, grace.GetProperty("needBytes").GetUInt64());
        Assert.True(grace.GetProperty("hardLimitNeeded").GetBoolean());
        Assert.Equal("iommufd-bars", grace.GetProperty("reason").GetString());
        Assert.Equal(135282688UL, grace.GetProperty("terms").GetProperty("graceBarKiB").GetUInt64());
        Assert.Contains("Bypass PFNMAP", grace.GetProperty("notes")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_of_an_NVLink2_domain_has_no_Grace_part()
    {
        var r = CliRunner.Run(null, "explain", Path.Combine(GoldenCase.Directory, "gpu1-write-out.xml"), "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon6Gpu),
            "--libvirt-version", "9.0.0", "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.False(doc.RootElement.TryGetProperty("grace", out _));
    }
}
