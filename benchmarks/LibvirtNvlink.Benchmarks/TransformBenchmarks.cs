using BenchmarkDotNet.Attributes;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Benchmarks;

/// <summary>Transform of a 6-GPU domain (the six-gpus golden input) against the 6-GPU example host, in-process.</summary>
[MemoryDiagnoser]
public class TransformBenchmarks
{
    private string _root = "";
    private string _input = "";
    private string _complete = "";
    private HostTopology _host = null!;
    private readonly TransformOptions _options = new(MemlockMode.Write, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption));

    [GlobalSetup]
    public void Setup()
    {
        _root = BenchmarkInputs.WriteSixGpuHost("transform");
        _host = HostDiscovery.Discover(new HostRoot(_root));
        _input = BenchmarkInputs.Golden("six-gpus-in.xml");
        _complete = DomainTransformer.Transform(_input, _host, _options).Xml;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, true);

    [Benchmark]
    public int Transform_6gpu_domain() => DomainTransformer.Transform(_input, _host, _options).Xml.Length;

    [Benchmark]
    public bool Transform_already_complete_6gpu_domain() => DomainTransformer.Transform(_complete, _host, _options).Changed;

    [Benchmark]
    public int Discover_and_transform_6gpu_domain() =>
        DomainTransformer.Transform(_input, HostDiscovery.Discover(new HostRoot(_root)), _options).Xml.Length;
}
