using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>`watch` against a real libvirtd: completes what other clients define, survives a daemon restart, stops on SIGTERM.</summary>
public sealed class WatchTests : IDisposable
{
    /// <summary>Bounds for conditions, not expectations: under load a daemon restart can take a minute.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(180);

    private readonly HookedLibvirtd _libvirtd = new();

    public void Dispose() => _libvirtd.Dispose();

    private string IncompleteDomain(string name) => TestDomains.GpuDomainFile(_libvirtd, "gpu1-write-in.xml", name);

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
        using var watch = new WatchProcess(_libvirtd);
        try
        {
            Assert.True(SpinUntil(() => watch.Log.Contains("connected to", StringComparison.Ordinal), Generous), watch.Log);
            Assert.Equal(0, _libvirtd.Virsh("define", IncompleteDomain("watched-1")).ExitCode);
            Assert.True(CompletedWithin("watched-1", Generous), watch.Log);
            // Its own redefine raised another "defined" event: it must find nothing to do, not loop. Events are
            // handled in order, so once a domain defined after that event is completed, that event was handled.
            Assert.Equal(0, _libvirtd.Virsh("define", IncompleteDomain("watched-marker")).ExitCode);
            Assert.True(SpinUntil(() => watch.Log.Contains("completed domain 'watched-marker'", StringComparison.Ordinal), Generous), watch.Log);
            Assert.Equal(1, CountOf(watch.Log, "completed domain 'watched-1'"));

            _libvirtd.Restart();
            Assert.True(SpinUntil(() => CountOf(watch.Log, "connected to") >= 2, Generous), watch.Log);
            Assert.Equal(0, _libvirtd.Virsh("define", IncompleteDomain("watched-2")).ExitCode);
            Assert.True(CompletedWithin("watched-2", Generous), watch.Log);

            Assert.True(watch.Terminate(Generous), "watch did not stop on SIGTERM");
            Assert.Equal(0, watch.Process.ExitCode);
            Assert.Contains("stopped (SIGTERM)", watch.Log, StringComparison.Ordinal);
        }
        finally
        {
            _libvirtd.Virsh("undefine", "watched-1");
            _libvirtd.Virsh("undefine", "watched-marker");
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
