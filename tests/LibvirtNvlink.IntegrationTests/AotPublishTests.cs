using System.Text.RegularExpressions;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Like dotnet/command-line-api's CompilationTests: publish the AOT hook and fail on any warning.</summary>
public partial class AotPublishTests
{
    [GeneratedRegex(@"warning (IL\d+|AOT\d*|CS\d+|CA\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex Warning();

    [Fact]
    public void The_CLI_the_hook_and_its_worker_publish_with_NativeAOT_without_a_single_warning()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var warnings = PublishedHook.Output.Split('\n').Where(l => Warning().IsMatch(l)).ToList();
        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        Assert.Contains("Generating native code", PublishedHook.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(PublishedHook.Front));
        Assert.True(File.Exists(PublishedHook.Worker));
        Assert.True(File.Exists(PublishedHook.Cli));
    }

    [Fact]
    public void The_NativeAOT_CLI_talks_to_libvirt_through_its_own_bindings()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        Processes.RequireOrSkip(Libvirt.LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");
        var r = Processes.Run(PublishedHook.Cli, ["check", "--all", "--connect", "test:///default",
            "--host-root", Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu")]);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("test: no NVLink2 or Grace device of this host assigned", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_front_stays_small_because_it_carries_no_XML_parser()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        // Start-up of a NativeAOT image grows with its size; the front runs for every event of every domain.
        Assert.True(new FileInfo(PublishedHook.Front).Length < 3 * 1024 * 1024, $"{PublishedHook.Front} is {new FileInfo(PublishedHook.Front).Length} bytes");
    }

    [Fact]
    public void The_published_front_hands_a_GPU_domain_to_the_worker_and_refuses_it_with_the_workers_message()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var host = Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu");
        var dir = Directory.CreateTempSubdirectory("lvn-front-").FullName;
        var env = new Dictionary<string, string>
        {
            ["LIBVIRT_NVLINK_HOST_ROOT"] = host,
            ["LIBVIRT_NVLINK_CONFIG"] = Path.Combine(dir, "none.xml"),
            ["LIBVIRT_NVLINK_STATE_DIR"] = dir,
            ["LIBVIRT_NVLINK_LOCK_DIR"] = dir,
        };
        var xml = File.ReadAllText(Path.Combine(Tests.GoldenCase.Directory, "gpu1-write-in.xml"));
        var r = Processes.RunWithEnvironment(PublishedHook.Front, ["gpu1", "prepare", "begin", "-"], env, xml);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("libvirt-nvlink refused to start 'gpu1'", r.Stderr, StringComparison.Ordinal);
        var plain = Processes.RunWithEnvironment(PublishedHook.Front, ["plain", "prepare", "begin", "-"], env, "<domain><name>plain</name></domain>");
        Assert.Equal((0, ""), (plain.ExitCode, plain.Stderr));
    }
}
