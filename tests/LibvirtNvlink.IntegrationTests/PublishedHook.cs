namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// The binaries as they ship: the CLI and the hook, NativeAOT-published once per test run side by side (as
/// scripts/publish.sh does), with the publish output kept so a test can fail on any trim or AOT warning.
/// </summary>
public static class PublishedHook
{
    private static readonly Lazy<(string Directory, string Output, int ExitCode)> Published = new(() =>
    {
        var dir = Tests.TestRunTemp.NewDirectory("hook-aot-");
        var output = new System.Text.StringBuilder();
        var code = 0;
        foreach (var project in new[] { "src/LibvirtNvlink.Hook", "src/LibvirtNvlink.Cli" })
        {
            // Under scripts/publish.sh's lock: the package and JIT tests publish the same projects in parallel. The map
            // file is asked for so that ILC compiles afresh (its response file differs) even when a package build has
            // just compiled the same sources into the same obj/: its warnings, which the AOT test reads, are printed
            // only when it runs.
            System.IO.Directory.CreateDirectory(Path.Combine(Tests.CliRunner.RepoRoot, "artifacts"));
            var r = Processes.Run("flock",
                ["-o", Path.Combine(Tests.CliRunner.RepoRoot, "artifacts", ".publish.lock"), "dotnet", "publish", Path.Combine(Tests.CliRunner.RepoRoot, project), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-p:IlcGenerateMapFile=true",
                 "-o", dir, "-nologo", "-v", "normal", "--tl:off"], timeoutSeconds: 3600);
            output.AppendLine(r.Output);
            code = Math.Max(code, r.ExitCode);
        }
        return (dir, output.ToString(), code);
    });

    public static string Directory => Published.Value.Directory;

    public static string Output => Published.Value.Output;

    public static int ExitCode => Published.Value.ExitCode;

    public static string Hook => Path.Combine(Directory, "libvirt-nvlink-hook");

    public static string Cli => Path.Combine(Directory, "libvirt-nvlink");
}
