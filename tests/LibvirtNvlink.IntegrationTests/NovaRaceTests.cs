using System.Text.RegularExpressions;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// Nova defines a domain and starts it within the same call. Two ways to meet that, side by side in one run against a
/// real libvirtd with our hook (docs/nova.md quotes the figures):
/// - the Nova driver: the XML goes through LibvirtNvlinkDriver's transform step before define, so libvirt never
///   holds an incomplete definition and the hook never refuses a start;
/// - `watch` alone: it completes the domain after libvirt announces the definition, racing the start; when the start
///   wins, the hook refuses it with a message telling the operator to start again.
/// Every trial ends in exactly one of those outcomes or the test fails with what happened.
/// </summary>
public sealed partial class NovaRaceTests(ITestOutputHelper output) : IDisposable
{
    private const int Trials = 20;
    private readonly HookedLibvirtd _libvirtd = new();
    private readonly NovaDriverTransform _driver = new();

    public void Dispose()
    {
        _driver.Dispose();
        _libvirtd.Dispose();
    }

    private enum Outcome { PreflightPassed, Refused }

    [Fact]
    public void Through_the_Nova_driver_no_start_is_refused_while_watch_alone_races_the_start()
    {
        Processes.RequireOrSkip(_libvirtd.Available && PublishedHook.ExitCode == 0, "a private libvirtd (root) and the published hook");
        Processes.RequireOrSkip(_driver.Available, "Debian's python3-nova");
        var (libvirt, qemu) = DaemonVersions();

        // The driver alone, no watch running: what libvirt defines is already complete.
        var driverRefused = 0;
        for (var i = 0; i < Trials; i++)
        {
            var name = $"nova-driver-{i}";
            var completed = _driver.Complete(TestDomains.GpuDomainXml("gpu1-write-in.xml", name), name, PublishedHook.Cli,
                _libvirtd.SimulatedHost, libvirt, qemu);
            var file = Path.Combine(_libvirtd.Directory, name + ".xml");
            File.WriteAllText(file, completed);
            if (DefineThenStart(name, file) == Outcome.Refused) driverRefused++;
        }

        // watch alone, on the XML as Nova's stock driver generates it.
        int watchRefused = 0;
        using (var watch = new WatchProcess(_libvirtd))
        {
            Assert.True(SpinWait.SpinUntil(() => watch.Log.Contains("connected to", StringComparison.Ordinal), TimeSpan.FromSeconds(60)),
                $"watch did not connect: {watch.Log}");
            try
            {
                for (var i = 0; i < Trials; i++)
                {
                    var name = $"nova-watch-{i}";
                    if (DefineThenStart(name, TestDomains.GpuDomainFile(_libvirtd, "gpu1-write-in.xml", name)) == Outcome.Refused) watchRefused++;
                }
            }
            finally
            {
                watch.Terminate(TimeSpan.FromSeconds(10));
            }
        }

        output.WriteLine($"define+start back to back, {Trials} trials each, libvirt {libvirt}, QEMU {qemu}: " +
                         $"through the Nova driver the hook refused {driverRefused}; with watch alone it refused {watchRefused}");
        Assert.Equal(0, driverRefused);
    }

    /// <summary>One virsh session per trial, as close as a client gets to Nova's define-then-start in one call.</summary>
    private Outcome DefineThenStart(string name, string file)
    {
        var r = Processes.Run("/bin/sh", ["-c", $"virsh -c '{_libvirtd.Uri}' define {file} && virsh -c '{_libvirtd.Uri}' start {name}"]);
        try
        {
            if (r.Output.Contains("libvirt-nvlink refused to start", StringComparison.Ordinal))
            {
                Assert.Contains("then start again", r.Output, StringComparison.Ordinal);
                return Outcome.Refused;
            }
            // The start may still fail after the hook (this sandbox cannot raise the memlock limit), but the hook
            // must have passed this domain; any other failure is neither outcome.
            Assert.True(_libvirtd.HookLog.Contains($"domain '{name}' prepare begin: preflight passed", StringComparison.Ordinal),
                $"'{name}': neither refused by the hook nor passed by it. virsh: {r.Output}\nhook log: {_libvirtd.HookLog}");
            return Outcome.PreflightPassed;
        }
        finally
        {
            _libvirtd.Virsh("destroy", name);
            _libvirtd.Virsh("undefine", name);
        }
    }

    /// <summary>The daemon's libvirt and QEMU, as Nova's driver reads them from its connection.</summary>
    private (string Libvirt, string Qemu) DaemonVersions()
    {
        var v = _libvirtd.Virsh("version", "--daemon").Stdout;
        var libvirt = DaemonLibvirt().Match(v);
        var qemu = DaemonQemu().Match(v);
        Assert.True(libvirt.Success && qemu.Success, $"unexpected 'virsh version': {v}");
        return (libvirt.Groups[1].Value, qemu.Groups[1].Value);
    }

    [GeneratedRegex(@"Running against daemon: (\d+\.\d+\.\d+)")]
    private static partial Regex DaemonLibvirt();

    [GeneratedRegex(@"Running hypervisor: QEMU (\d+\.\d+\.\d+)")]
    private static partial Regex DaemonQemu();
}
