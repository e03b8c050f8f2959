namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A JIT install as ppc64le gets it, published here by scripts/publish.sh --jit once per test run: the CLI and the
/// hook self-contained on the JIT runtime, and libvirt-nvlink-hook-front built with the system's C compiler.
/// </summary>
public static class PublishedJit
{
    private static readonly Lazy<(string Directory, Tests.ProcessResult Result)> Published = new(() =>
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("lvn-jit-").FullName;
        return (dir, Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "publish.sh"), ["--jit", dir], timeoutSeconds: 3600));
    });

    public static string Directory
    {
        get
        {
            Assert.True(Published.Value.Result.ExitCode == 0, "scripts/publish.sh --jit failed:\n" + Published.Value.Result.Output);
            return Published.Value.Directory;
        }
    }

    public static string Front => Path.Combine(Directory, "libvirt-nvlink-hook-front");

    public static string Cli => Path.Combine(Directory, "libvirt-nvlink");
}
