namespace LibvirtNvlink.Tests;

/// <summary>
/// libvirt-nvlink-hook-front built once per test run from src/LibvirtNvlink.HookFront with its Makefile and the
/// system's C compiler, as scripts/publish.sh --jit and the packages build it.
/// </summary>
public static class HookFront
{
    private static readonly Lazy<(string Path, string Output, int ExitCode)> Built = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("lvn-hook-front-").FullName;
        ProcessResult r;
        try
        {
            r = ProcessRunner.Run("make", ["-s", "-C", System.IO.Path.Combine(CliRunner.RepoRoot, "src", "LibvirtNvlink.HookFront"), "OUT=" + dir]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // scripts/install-test-deps.sh installs make and gcc: without them this must fail, never skip.
            return ("", $"make is not installed ({e.Message}); run scripts/install-test-deps.sh", 127);
        }
        return (System.IO.Path.Combine(dir, "libvirt-nvlink-hook-front"), r.Output, r.ExitCode);
    });

    /// <summary>The front's path; fails the calling test with the compiler's output when it did not build.</summary>
    public static string Path
    {
        get
        {
            Assert.True(Built.Value.ExitCode == 0, "libvirt-nvlink-hook-front did not build: " + Built.Value.Output);
            return Built.Value.Path;
        }
    }
}
