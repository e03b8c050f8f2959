using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

/// <summary>
/// `topology` of the Grace hosts in every format, against hand-checked files in Golden/topology (NAME.txt, NAME.json,
/// NAME.dot): each GPU's host SMMUv3, which GPUs share one, its CPU node, generic-initiator nodes and BARs.
/// LIBVIRT_NVLINK_UPDATE_GOLDEN=1 rewrites them; read the diff before committing.
/// </summary>
public sealed class TopologyGoldenTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { BuiltInLayouts.GraceHopper1Gpu.Name, "txt" }, { BuiltInLayouts.GraceHopper1Gpu.Name, "json" }, { BuiltInLayouts.GraceHopper1Gpu.Name, "dot" },
        { BuiltInLayouts.GraceBlackwell4Gpu.Name, "txt" }, { BuiltInLayouts.GraceBlackwell4Gpu.Name, "json" }, { BuiltInLayouts.GraceBlackwell4Gpu.Name, "dot" },
        { BuiltInLayouts.GraceBlackwell4GpuMixed.Name, "txt" }, { BuiltInLayouts.GraceBlackwell4GpuMixed.Name, "json" }, { BuiltInLayouts.GraceBlackwell4GpuMixed.Name, "dot" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Topology_of_a_Grace_host_matches_its_golden_output(string host, string format)
    {
        string[] flag = format switch { "json" => ["--json"], "dot" => ["--dot"], _ => [] };
        var r = CliRunner.Run(null, ["topology", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.Find(host)!), .. flag]);
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var golden = Path.Combine(GoldenCase.Directory, "topology", $"{host}.{format}");
        if (GoldenCase.Updating)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
            File.WriteAllText(golden, r.Stdout);
        }
        Assert.Equal(File.ReadAllText(golden), r.Stdout);
    }
}
