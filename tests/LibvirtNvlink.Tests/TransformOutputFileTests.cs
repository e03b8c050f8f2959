using System.Diagnostics;
using System.Globalization;

namespace LibvirtNvlink.Tests;

/// <summary>
/// transform -o writes through a temporary file next to OUT (issue #13, point 11): none is left on a failure the
/// process sees, and those of a killed run are recognisable by name and removed by the next run.
/// </summary>
public sealed class TransformOutputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("transform-o-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example6 => Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu");

    private CliResult Transform(string output) => CliRunner.Run(null, "transform", Path.Combine(GoldenCase.Directory, "gpu1-write-in.xml"),
        "--host-root", Example6, "--memlock", "write", "--libvirt-version", "9.0.0", "-o", output);

    /// <summary>The id of a process that has certainly exited (started and waited for here).</summary>
    private static int DeadPid()
    {
        using var p = Process.Start("true")!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public void A_later_run_removes_the_temporary_files_killed_runs_left_and_keeps_those_of_live_ones()
    {
        var output = Path.Combine(_dir, "guest.nv2.xml");
        var dead = Path.Combine(_dir, $".guest.nv2.xml.libvirt-nvlink-{DeadPid().ToString(CultureInfo.InvariantCulture)}-1.tmp");
        var live = Path.Combine(_dir, $".guest.nv2.xml.libvirt-nvlink-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-1.tmp");
        var someoneElses = Path.Combine(_dir, ".guest.nv2.xml.tmp");
        foreach (var f in new[] { dead, live, someoneElses }) File.WriteAllText(f, "half a domain");

        var r = Transform(output);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.False(File.Exists(dead), "the temporary file of a killed run is still there");
        Assert.True(File.Exists(live), "the temporary file of a running writer was removed");
        Assert.True(File.Exists(someoneElses), "a file that is not ours was removed");
        Assert.Equal(File.ReadAllText(Path.Combine(GoldenCase.Directory, "gpu1-write-out.xml")), File.ReadAllText(output));
    }

    [Fact]
    public void A_failed_rename_leaves_no_temporary_file()
    {
        var output = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(Path.Combine(output, "not-empty"));

        var r = Transform(output);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal([output], Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void An_output_path_that_is_a_symlink_is_replaced_not_written_through()
    {
        var victim = Path.Combine(_dir, "victim");
        File.WriteAllText(victim, "precious");
        var output = Path.Combine(_dir, "guest.nv2.xml");
        File.CreateSymbolicLink(output, victim);

        Assert.Equal(0, Transform(output).ExitCode);

        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(output).LinkTarget);
    }
}
