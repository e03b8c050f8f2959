namespace LibvirtNvlink.Tests;

/// <summary>.ci/run, the CI entry point, refuses a run whose golden tests would compare each file with itself.</summary>
public class CiScriptTests
{
    [Fact]
    public void CI_refuses_to_run_with_golden_updates_switched_on_and_runs_nothing()
    {
        var r = ProcessRunner.Run("/bin/bash", [Path.Combine(CliRunner.RepoRoot, ".ci", "run")],
            new Dictionary<string, string> { ["LIBVIRT_NVLINK_UPDATE_GOLDEN"] = "1" }, timeoutSeconds: 60);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("LIBVIRT_NVLINK_UPDATE_GOLDEN", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("0 passed, 1 failed", r.Stdout.Trim());
    }
}
