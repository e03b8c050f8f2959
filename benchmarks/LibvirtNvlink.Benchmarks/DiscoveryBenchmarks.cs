using BenchmarkDotNet.Attributes;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Benchmarks;

/// <summary>Whole-host discovery (sysfs + device tree + findings) of the bundled 6-GPU host, in-process.</summary>
[MemoryDiagnoser]
public class DiscoveryBenchmarks
{
    private string _root = "";

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "bench-host-" + Environment.ProcessId);
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
        SimulatedHostWriter.Write(BuiltInLayouts.Witherspoon6Gpu, _root);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, true);

    [Benchmark]
    public int Discover_6gpu_host() => HostDiscovery.Discover(new HostRoot(_root)).Gpus.Count;
}
