using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

public class SimulateHostCliTests
{
    private static string NewDir() => Path.Combine(TestRunTemp.Path, "sim-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_built_in_layout_is_written_and_reads_back()
    {
        var dir = NewDir();
        var r = CliRunner.Run(null, "simulate-host", "--layout", "witherspoon-4gpu-compound", "-o", dir);
        Assert.Equal(0, r.ExitCode);
        var t = HostDiscovery.Discover(new HostRoot(dir));
        Assert.Equal(4, t.Gpus.Count);
    }

    [Fact]
    public void A_printed_layout_edited_as_a_file_builds_a_users_own_host()
    {
        var printed = CliRunner.Run(null, "simulate-host", "--layout", "witherspoon-6gpu", "--print-layout", "-o", "unused");
        Assert.Equal(0, printed.ExitCode);
        var file = NewDir() + ".json";
        File.WriteAllText(file, printed.Stdout.Replace("\"links\": 2", "\"links\": 3", StringComparison.Ordinal));
        var dir = NewDir();
        var r = CliRunner.Run(null, "simulate-host", "--layout", file, "-o", dir);
        Assert.Equal(0, r.ExitCode);
        var t = HostDiscovery.Discover(new HostRoot(dir));
        Assert.All(t.Gpus, g => Assert.Equal(3, g.Bridges.Count));
    }

    [Fact]
    public void It_never_writes_into_a_non_empty_directory()
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep"), "x");
        var r = CliRunner.Run(null, "simulate-host", "--layout", "witherspoon-6gpu", "-o", dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(["keep"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("no-such-layout")]
    public void An_unknown_layout_is_a_usage_error_listing_the_built_in_ones(string layout)
    {
        var r = CliRunner.Run(null, "simulate-host", "--layout", layout, "-o", NewDir());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("witherspoon-6gpu", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_layout_file_with_an_unknown_defect_is_rejected()
    {
        var bad = BuiltInLayouts.Witherspoon6Gpu with
        {
            Chips = [BuiltInLayouts.Witherspoon6Gpu.Chips[0] with { Gpus = [new GpuLayout(4, 2, 4, 255, Defects: ["melted"])] }],
        };
        var e = Assert.Throws<HostLayoutException>(() => SimulatedHostWriter.Write(bad, NewDir()));
        Assert.Contains("melted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bundled_example_hosts_are_exactly_what_the_builder_writes()
    {
        foreach (var layout in BuiltInLayouts.All)
        {
            var committed = Path.Combine(CliRunner.RepoRoot, "examples", "hosts", layout.Name);
            Assert.True(Directory.Exists(committed), $"examples/hosts/{layout.Name} is missing; run scripts/generate-examples.sh");
            Assert.Equal(TreeSnapshot.Of(SimulatedHosts.PathOf(layout)), TreeSnapshot.Of(committed));
        }
    }
}

/// <summary>Every entry of a tree as text: file contents (hex), directory marks and link targets.</summary>
public static class TreeSnapshot
{
    public static IReadOnlyList<string> Of(string root)
    {
        var entries = new List<string>();
        Walk(new DirectoryInfo(root), root, entries);
        entries.Sort(StringComparer.Ordinal);
        return entries;
    }

    private static void Walk(DirectoryInfo dir, string root, List<string> entries)
    {
        foreach (var e in dir.EnumerateFileSystemInfos())
        {
            var rel = Path.GetRelativePath(root, e.FullName);
            if (e.LinkTarget is { } target) entries.Add($"{rel} -> {target}");
            else if (e is DirectoryInfo d) { entries.Add(rel + "/"); Walk(d, root, entries); }
            else entries.Add($"{rel} = {Convert.ToHexString(File.ReadAllBytes(e.FullName))}");
        }
    }
}
