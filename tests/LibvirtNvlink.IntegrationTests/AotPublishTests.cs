using System.Text.RegularExpressions;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Like dotnet/command-line-api's CompilationTests: publish the AOT hook and fail on any warning.</summary>
public partial class AotPublishTests
{
    [GeneratedRegex(@"warning (IL\d+|AOT\d*|CS\d+|CA\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex Warning();

    [Fact]
    public void The_CLI_and_the_hook_publish_with_NativeAOT_without_a_single_warning()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var warnings = PublishedHook.Output.Split('\n').Where(l => Warning().IsMatch(l)).ToList();
        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        Assert.Contains("Generating native code", PublishedHook.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(PublishedHook.Hook));
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
    public void The_hook_is_linked_at_a_fixed_address_so_a_start_does_not_rewrite_its_data()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        // ELF e_type at offset 16: 2 = ET_EXEC, 3 = ET_DYN (PIE). See the project file for why.
        using var elf = File.OpenRead(PublishedHook.Hook);
        var header = new byte[18];
        elf.ReadExactly(header);
        Assert.Equal(2, BitConverter.ToUInt16(header, 16));
    }

    [Fact]
    public void The_published_hook_refuses_an_incomplete_GPU_domain_and_lets_a_plain_one_pass_silently()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var env = Environment(Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"), config: null);
        var xml = File.ReadAllText(Path.Combine(Tests.GoldenCase.Directory, "gpu1-write-in.xml"));
        var r = Processes.RunWithEnvironment(PublishedHook.Hook, ["gpu1", "prepare", "begin", "-"], env, xml);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("libvirt-nvlink refused to start 'gpu1'", r.Stderr, StringComparison.Ordinal);
        var plain = Processes.RunWithEnvironment(PublishedHook.Hook, ["plain", "prepare", "begin", "-"], env, "<domain><name>plain</name></domain>");
        Assert.Equal((0, ""), (plain.ExitCode, plain.Stderr));
    }

    [Theory]
    [InlineData("refuse", 1, "refusing to start it unchecked")]
    [InlineData("warn", 0, "letting libvirt continue")]
    public void The_watchdog_ends_a_hook_stuck_behind_another_ones_group_lock_with_a_message_instead_of_hanging_libvirtd(
        string policy, int exitCode, string outcome)
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        // The broken host has bridge 0007:00:00.0 (IOMMU group 10) on ibmnpu: with bind-managed-no the hook takes the
        // group's lock to rebind it, and another process holds that lock for longer than the timeout.
        var host = Tests.SimulatedHosts.Fresh(Simulation.BuiltInLayouts.WitherspoonBroken);
        var env = Environment(host, $"<policy incomplete='{policy}'/><hook timeout-seconds='1'/><bind-managed-no enabled='yes'/>");
        Directory.CreateDirectory(env["LIBVIRT_NVLINK_LOCK_DIR"]);
        var lockFile = Path.Combine(env["LIBVIRT_NVLINK_LOCK_DIR"], "iommu-group-10.lock");
        // Holds the lock far longer than any wait below; killed when the test ends.
        using var holder = System.Diagnostics.Process.Start("flock", ["-x", lockFile, "sleep", "3600"]);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (Processes.Run("flock", ["-n", lockFile, "true"]).ExitCode == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "flock never took the group lock");
                Thread.Sleep(50);
            }
            var xml = Tests.HookTestDomains.ManagedNoGpuWithBridgeOnIbmnpu("stuck", type: "kvm");
            // A hook that hung would be killed by the runner's bound (a TimeoutException fails the test); one that
            // ended for any other reason than its watchdog would not print the watchdog's message.
            var r = Processes.RunWithEnvironment(PublishedHook.Hook, ["stuck", "prepare", "begin", "-"], env, xml, timeoutSeconds: 600);
            Assert.Equal(exitCode, r.ExitCode);
            Assert.Contains("checking domain 'stuck' (prepare begin) took longer than 1 s; " + outcome, r.Stderr, StringComparison.Ordinal);
            var overridePath = Path.Combine(host, "sys/bus/pci/devices/0007:00:00.0/driver_override");
            Assert.NotEqual("vfio-pci", File.Exists(overridePath) ? File.ReadAllText(overridePath).Trim() : "");
        }
        finally
        {
            holder.Kill();
        }
    }

    private static Dictionary<string, string> Environment(string host, string? config)
    {
        var dir = Tests.TestRunTemp.NewDirectory("hook-");
        var env = new Dictionary<string, string>
        {
            ["LIBVIRT_NVLINK_HOST_ROOT"] = host,
            ["LIBVIRT_NVLINK_CONFIG"] = Path.Combine(dir, "config.xml"),
            ["LIBVIRT_NVLINK_STATE_DIR"] = Path.Combine(dir, "state"),
            ["LIBVIRT_NVLINK_LOCK_DIR"] = Path.Combine(dir, "locks"),
        };
        if (config is not null)
        {
            File.WriteAllText(env["LIBVIRT_NVLINK_CONFIG"],
                $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'>{config}<log target='file' path='{Path.Combine(dir, "hook.log")}'/></libvirt-nvlink>");
        }
        return env;
    }
}
