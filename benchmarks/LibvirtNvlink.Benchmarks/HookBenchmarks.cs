using BenchmarkDotNet.Attributes;
using LibvirtNvlink.Hook;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Benchmarks;

/// <summary>The hook's prepare for a complete 6-GPU domain on the 6-GPU example host, in-process (no start-up).</summary>
[MemoryDiagnoser]
public class HookBenchmarks
{
    private string _root = "";
    private string _xml = "";
    private HookEnvironment _env = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = BenchmarkInputs.WriteSixGpuHost("hook");
        _xml = BenchmarkInputs.Golden("six-gpus-out.xml");
        var state = Path.Combine(_root, "state");
        _env = HookEnvironment.FromVariables(name => name switch
        {
            "LIBVIRT_NVLINK_HOST_ROOT" => _root,
            "LIBVIRT_NVLINK_CONFIG" => Path.Combine(_root, "no-config.xml"),
            "LIBVIRT_NVLINK_STATE_DIR" => state,
            "LIBVIRT_NVLINK_LOCK_DIR" => state,
            _ => null,
        });
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, true);

    [Benchmark]
    public int Prepare_6gpu_domain() => new HookDispatcher(_env, TextWriter.Null).Run(["six", "prepare", "begin", "-"], _xml);
}
