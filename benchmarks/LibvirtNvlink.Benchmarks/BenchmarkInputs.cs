using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Benchmarks;

/// <summary>The inputs every benchmark measures against: the 6-GPU example host and the golden domains.</summary>
public static class BenchmarkInputs
{
    /// <summary>Writes the RFC's 6-GPU AC922 into a fresh temporary directory.</summary>
    public static string WriteSixGpuHost(string purpose)
    {
        var root = Path.Combine(Path.GetTempPath(), $"bench-{purpose}-{Environment.ProcessId}");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        SimulatedHostWriter.Write(BuiltInLayouts.Witherspoon6Gpu, root);
        return root;
    }

    public static string Golden(string file)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LibvirtNvlink.sln"))) dir = Path.GetDirectoryName(dir)!;
        return File.ReadAllText(Path.Combine(dir, "tests", "LibvirtNvlink.Tests", "Golden", file));
    }
}
