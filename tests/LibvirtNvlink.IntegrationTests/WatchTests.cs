using System.Diagnostics;
using System.Text;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>`watch` against a real libvirtd: completes what other clients define, survives a daemon restart, stops on SIGTERM.</summary>
public sealed class WatchTests : IDisposable
{
    private readonly HookedLibvirtd _libvirtd = new();

    public void Dispose() => _libvirtd.Dispose();

    private string IncompleteDomain(string name)
    {
        var xml = File.ReadAllText(Path.Combine(GoldenCase.Directory, "gpu1-write-in.xml"))
            .Replace("<domain type='kvm'>", "<domain type='qemu'>", StringComparison.Ordinal)
            .Replace("managed='yes'", "managed='no'", StringComparison.Ordinal)
            .Replace("<name>gpu1</name>", $"<name>{name}</name>", StringComparison.Ordinal)
            .Replace("<uuid>5f3c1b0e-2a47-4c7e-9d6e-1c2b3a4d5e6f</uuid>\n", "", StringComparison.Ordinal);
        var file = Path.Combine(_libvirtd.Directory, name + ".xml");
        File.WriteAllText(file, xml);
        return file;
    }

    private bool CompletedWithin(string name, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (_libvirtd.Virsh("dumpxml", "--inactive", name).Stdout.Contains("function='0x1'/>\n      </source>", StringComparison.Ordinal)) return true;
            Thread.Sleep(200);
        }
        return false;
    }

    [Fact]
    public void A_domain_another_client_defines_incomplete_is_completed_again_even_after_libvirtd_restarts()
    {
        Processes.RequireOrSkip(_libvirtd.Available, "a private libvirtd (root)");
        var log = new StringBuilder();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { CliRunner.CliDll, "watch", "--connect", _libvirtd.Uri, "--host-root", _libvirtd.SimulatedHost,
                     "--backup-dir", Path.Combine(_libvirtd.Directory, "backups") })
        {
            psi.ArgumentList.Add(a);
        }
        using var watch = Process.Start(psi)!;
        watch.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        watch.OutputDataReceived += (_, _) => { };
        watch.BeginErrorReadLine();
        watch.BeginOutputReadLine();
        try
        {
            Assert.True(SpinUntil(() => Logged(log, "connected to"), TimeSpan.FromSeconds(30)), Text(log));
            Assert.Equal(0, _libvirtd.Virsh("define", IncompleteDomain("watched-1")).ExitCode);
            Assert.True(CompletedWithin("watched-1", TimeSpan.FromSeconds(15)), Text(log));
            // Its own redefine raised another "defined" event: it must find nothing to do, not loop.
            Thread.Sleep(2000);
            Assert.Equal(1, CountOf(Text(log), "completed domain 'watched-1'"));

            _libvirtd.Restart();
            Assert.True(SpinUntil(() => CountOf(Text(log), "connected to") >= 2, TimeSpan.FromSeconds(60)), Text(log));
            Assert.Equal(0, _libvirtd.Virsh("define", IncompleteDomain("watched-2")).ExitCode);
            Assert.True(CompletedWithin("watched-2", TimeSpan.FromSeconds(15)), Text(log));

            Processes.Run("/bin/kill", ["-TERM", watch.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.True(watch.WaitForExit(TimeSpan.FromSeconds(15)), "watch did not stop on SIGTERM");
            Assert.Equal(0, watch.ExitCode);
            Assert.Contains("stopped (SIGTERM)", Text(log), StringComparison.Ordinal);
        }
        finally
        {
            if (!watch.HasExited) watch.Kill();
            _libvirtd.Virsh("undefine", "watched-1");
            _libvirtd.Virsh("undefine", "watched-2");
        }
    }

    [Fact]
    public void Watch_without_a_daemon_gives_up_after_bounded_retries()
    {
        var r = CliRunner.Run(null, "watch", "--connect", "qemu+unix:///system?socket=/nonexistent/sock",
            "--host-root", Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot connect", r.Stderr, StringComparison.Ordinal);
    }

    private static string Text(StringBuilder log) { lock (log) return log.ToString(); }

    private static bool Logged(StringBuilder log, string what) => Text(log).Contains(what, StringComparison.Ordinal);

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    private static bool SpinUntil(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(200);
        }
        return condition();
    }
}
