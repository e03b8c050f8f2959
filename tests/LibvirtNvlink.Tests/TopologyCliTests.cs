using System.Text.Json;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

public class TopologyCliTests
{
    [Fact]
    public void Json_has_the_documented_shape_with_integer_numbers()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon6Gpu), "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var gpu = doc.RootElement.GetProperty("gpus")[0];
        Assert.Equal("0004:04:00.0", gpu.GetProperty("address").GetString());
        Assert.Equal("10de", gpu.GetProperty("vendor").GetString());
        Assert.Equal("1db1", gpu.GetProperty("device").GetString());
        Assert.Equal("vfio-pci", gpu.GetProperty("driver").GetString());
        Assert.Equal(4, gpu.GetProperty("iommuGroup").GetInt32());
        Assert.Equal(0, gpu.GetProperty("numaNode").GetInt32());
        Assert.Equal(["0006:00:00.0", "0006:00:00.1"], gpu.GetProperty("bridges").EnumerateArray().Select(e => e.GetString()));
        var mem = gpu.GetProperty("memory");
        Assert.Equal(4398046511104UL, mem.GetProperty("address").GetUInt64());
        Assert.Equal(137438953472UL, mem.GetProperty("size").GetUInt64());
        Assert.Equal(255, mem.GetProperty("numaNode").GetInt32());
        var bridge = doc.RootElement.GetProperty("bridges")[0];
        Assert.Equal("0006:00:00.0", bridge.GetProperty("address").GetString());
        Assert.Equal("0004:04:00.0", bridge.GetProperty("gpu").GetString());
        Assert.Equal(0, bridge.GetProperty("linkIndex").GetInt32());
        Assert.Equal(8, bridge.GetProperty("linkSpeed").GetInt32());
        Assert.Equal(4398046511104UL, bridge.GetProperty("tgt").GetUInt64());
        Assert.Equal(1692156993470464UL, bridge.GetProperty("atsd").GetUInt64());
        Assert.Equal(4, bridge.GetProperty("iommuGroup").GetInt32());
        Assert.Equal("vfio-pci", bridge.GetProperty("driver").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("findings").GetArrayLength());
    }

    [Fact]
    public void Findings_of_severity_error_exit_1_and_are_in_the_json()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.WitherspoonBroken), "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var severities = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("severity").GetString()).ToHashSet();
        Assert.Equal(["error", "warning", "info"], severities.Order().Reverse().OrderBy(s => s == "error" ? 0 : s == "warning" ? 1 : 2));
    }

    [Fact]
    public void Warnings_alone_exit_0()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon4GpuCompound));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("IOMMU group 7 holds GPUs 0004:04:00.0, 0004:05:00.0", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_output_is_a_table_of_GPUs_bridges_and_findings()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon6Gpu));
        Assert.Contains("GPU 0035:05:00.0  10de:1db1  driver=vfio-pci  iommu_group=12", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("bridge 0007:00:02.1  link 5  speed 8  tgt 0xc4000000000  atsd 0x6230200850000", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("No findings.", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Dot_output_draws_groups_as_clusters_and_links_as_edges()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon6Gpu), "--dot");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("graph host {", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(6, r.Stdout.Split("subgraph cluster_group").Length - 1);
        Assert.Equal(12, r.Stdout.Split(" -- ").Length - 1);
        Assert.Contains("\"0004:04:00.0\" -- \"0006:00:00.1\"", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Dot_output_is_a_graph_graphviz_accepts()
    {
        if (!File.Exists("/usr/bin/dot"))
        {
            Assert.True(Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") != "1", "graphviz must be installed (scripts/install-test-deps.sh)");
            Assert.Skip("graphviz (dot) is not installed; scripts/test.sh installs it");
        }
        var r = CliRunner.Run(null, "topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.WitherspoonBroken), "--dot");
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/dot", ["-Tsvg"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(r.Stdout);
        p.StandardInput.Close();
        var svg = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("topology", "--host-root", "/nonexistent-root")]
    [InlineData("topology", "--json", "--dot")]
    [InlineData("topology", "--bogus")]
    [InlineData("no-such-command")]
    public void Usage_errors_and_unreadable_roots_exit_2(params string[] args)
    {
        var r = CliRunner.Run(null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.NotEqual("", r.Stderr.Trim());
    }
}
