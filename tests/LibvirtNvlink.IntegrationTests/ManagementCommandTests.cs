using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>define, check and apply through our libvirt bindings against a real libvirtd that sees a simulated AC922.</summary>
[Collection(HookedLibvirtdCollection.Name)]
public class ManagementCommandTests(HookedLibvirtd libvirtd)
{
    private void Require() => Processes.RequireOrSkip(libvirtd.Available && PublishedHook.ExitCode == 0, "a private libvirtd (root)");

    private CliResult Cli(params string[] args) =>
        CliRunner.Run(null, [.. args, "--connect", libvirtd.Uri, "--host-root", libvirtd.SimulatedHost]);

    private string Domain(string name, bool complete = false) =>
        TestDomains.GpuDomainFile(libvirtd, complete ? "gpu1-write-out.xml" : "gpu1-write-in.xml", name);

    private string Backups(string test) => Path.Combine(libvirtd.Directory, "backups-" + test);

    [Fact]
    public void Define_completes_a_new_domain_and_backs_up_an_existing_one_before_redefining_it()
    {
        Require();
        const string name = "define-e2e";
        try
        {
            var first = Cli("define", Domain(name), "--backup-dir", Backups(name));
            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.Contains($"Domain '{name}' defined", first.Stdout, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Backups(name)));
            var dump = libvirtd.Virsh("dumpxml", "--inactive", name).Stdout;
            Assert.Contains("<address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/>", dump, StringComparison.Ordinal);

            var second = Cli("define", Domain(name), "--backup-dir", Backups(name));
            Assert.Equal(0, second.ExitCode);
            var backup = Assert.Single(Directory.GetFiles(Backups(name)));
            Assert.Contains(backup, second.Stderr, StringComparison.Ordinal);
            Assert.Contains($"<name>{name}</name>", File.ReadAllText(backup), StringComparison.Ordinal);
        }
        finally
        {
            libvirtd.Virsh("undefine", name);
        }
    }

    [Fact]
    public void XML_libvirt_rejects_is_reported_with_libvirts_message_and_nothing_changes()
    {
        Require();
        const string name = "define-invalid";
        var file = Domain(name);
        File.WriteAllText(file, File.ReadAllText(file).Replace("<console type='pty'/>", "<console type='pty'/>\n    <no-such-device/>", StringComparison.Ordinal));
        var r = Cli("define", file, "--backup-dir", Backups(name));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("libvirt refused", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Nothing was defined", r.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, libvirtd.Virsh("dominfo", name).ExitCode);
    }

    [Fact]
    public void Check_reports_a_domain_defined_incomplete_by_another_tool_and_passes_a_complete_one()
    {
        Require();
        const string broken = "check-broken", complete = "check-complete";
        try
        {
            Assert.Equal(0, libvirtd.Virsh("define", Domain(broken)).ExitCode);
            Assert.Equal(0, libvirtd.Virsh("define", Domain(complete, complete: true)).ExitCode);
            var bad = Cli("check", "--domain", broken);
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains($"{broken}: 1 error(s)", bad.Stdout, StringComparison.Ordinal);
            Assert.Contains("without its NVLink2 bridge(s)", bad.Stdout, StringComparison.Ordinal);
            var good = Cli("check", "--domain", complete, "--json");
            Assert.True(good.ExitCode == 0, good.Stdout + good.Stderr);
            Assert.Contains("\"ok\": true", good.Stdout, StringComparison.Ordinal);
            Assert.Equal(1, Cli("check", "--all").ExitCode);
        }
        finally
        {
            libvirtd.Virsh("undefine", broken);
            libvirtd.Virsh("undefine", complete);
        }
    }

    [Fact]
    public void Apply_dry_run_changes_nothing_and_apply_completes_once()
    {
        Require();
        const string name = "apply-e2e";
        try
        {
            Assert.Equal(0, libvirtd.Virsh("define", Domain(name)).ExitCode);
            var before = libvirtd.Virsh("dumpxml", "--inactive", name).Stdout;
            var dry = Cli("apply", "--domain", name, "--dry-run");
            Assert.Equal(0, dry.ExitCode);
            Assert.Contains("+        <address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/>", dry.Stdout, StringComparison.Ordinal);
            Assert.Equal(before, libvirtd.Virsh("dumpxml", "--inactive", name).Stdout);

            var apply = Cli("apply", "--domain", name, "--backup-dir", Backups(name));
            Assert.True(apply.ExitCode == 0, apply.Stderr);
            Assert.Contains("completed and redefined", apply.Stdout, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Backups(name)));
            Assert.Contains("function='0x1'", libvirtd.Virsh("dumpxml", "--inactive", name).Stdout, StringComparison.Ordinal);

            var again = Cli("apply", "--domain", name, "--backup-dir", Backups(name));
            Assert.Contains("nothing to do", again.Stdout, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Backups(name)));
        }
        finally
        {
            libvirtd.Virsh("undefine", name);
        }
    }

    [Fact]
    public void Permission_denied_is_not_retried_and_says_so()
    {
        Require();
        Processes.RequireOrSkip(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux)");
        // An unprivileged user against the root-only read-write socket: a permanent error, reported at once.
        var r = Processes.Run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp",
            "dotnet", CliRunner.CliDll, "apply", "--all", "--connect", libvirtd.Uri, "--host-root", Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu")]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("libvirt not reachable", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_daemon_that_is_down_gets_bounded_retries_then_a_clear_error()
    {
        Processes.RequireOrSkip(Tests.CliRunner.CliDll is not null, "the CLI");
        var r = CliRunner.Run(null, "check", "--all", "--connect", "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
            "--host-root", Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("libvirt not reachable", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/libvirt-sock", r.Stderr, StringComparison.Ordinal);
        // Bounded by attempts, not by the clock: the one retry policy makes five, so four retries are announced.
        var retries = r.Stderr.Split('\n').Count(l => l.Contains("libvirt not reachable", StringComparison.Ordinal));
        Assert.True(retries == 4, r.Stderr);
    }
}
