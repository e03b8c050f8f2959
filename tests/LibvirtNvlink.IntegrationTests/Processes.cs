using System.Diagnostics;

namespace LibvirtNvlink.IntegrationTests;

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}

public static class Processes
{
    public static ProcessResult Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 120) =>
        RunWithEnvironment(file, args, null, stdin, timeoutSeconds);

    public static ProcessResult RunWithEnvironment(string file, IEnumerable<string> args, IDictionary<string, string>? env, string? stdin = null, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
        {
            foreach (var (k, v) in env) psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        return new ProcessResult(p.ExitCode, o.GetAwaiter().GetResult(), e.GetAwaiter().GetResult());
    }

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Integration tests skip when libvirt is absent on a developer machine, but scripts/test.sh sets
    /// LIBVIRT_NVLINK_REQUIRE_LIBVIRT=1 (it installs libvirt first), so in CI a missing piece is a failure.
    /// </summary>
    public static void RequireOrSkip(bool available, string what)
    {
        if (available) return;
        if (Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") == "1")
        {
            Assert.Fail($"{what} is required (LIBVIRT_NVLINK_REQUIRE_LIBVIRT=1) but not available");
        }
        Assert.Skip($"{what} is not available here; scripts/test.sh installs it");
    }
}
