namespace LibvirtNvlink.IntegrationTests;

public class WatchUnitTests
{
    [Fact]
    public void The_systemd_unit_has_no_directive_systemd_does_not_know()
    {
        Processes.RequireOrSkip(File.Exists("/usr/bin/systemd-analyze"), "systemd-analyze");
        var unit = File.ReadAllText(Path.Combine(Tests.CliRunner.RepoRoot, "hooks", "libvirt-nvlink-watch.service"));
        Assert.Contains("ExecStart=/usr/bin/libvirt-nvlink watch", unit, StringComparison.Ordinal);
        // verify also checks that ExecStart exists; point it at a binary this machine has, nothing else changes.
        var dir = Tests.TestRunTemp.NewDirectory("unit-");
        var file = Path.Combine(dir, "libvirt-nvlink-watch.service");
        File.WriteAllText(file, unit.Replace("ExecStart=/usr/bin/libvirt-nvlink", "ExecStart=/bin/true", StringComparison.Ordinal));
        // --man=no: Documentation= names man:libvirt-nvlink(1), which the packages install and this machine need not have.
        var r = Processes.Run("/usr/bin/systemd-analyze", ["verify", "--man=no", file]);
        Assert.True(r.ExitCode == 0 && r.Output.Trim().Length == 0, r.Output);
    }
}
