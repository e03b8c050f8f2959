using BenchmarkDotNet.Attributes;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Benchmarks;

/// <summary>Whole-host discovery (sysfs + device tree + findings) of the bundled 6-GPU host, in-process.</summary>
[MemoryDiagnoser]
public class DiscoveryBenchmarks
{
    private string _root = "";

    [GlobalSetup]
    public void Setup()
    {
        _root = BenchmarkInputs.WriteSixGpuHost("discovery");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, true);

    [Benchmark]
    public int Discover_6gpu_host() => HostDiscovery.Discover(new HostRoot(_root)).Gpus.Count;
}
