using System.Text.Json;

namespace LibvirtNvlink.Tests;

public class TransformCliTests
{
    private static string Example6 => Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu");

    private static string Golden(string file) => Path.Combine(GoldenCase.Directory, file);

    [Fact]
    public void Transform_reads_stdin_and_writes_stdout_with_diagnostics_on_stderr()
    {
        var r = CliRunner.Run(File.ReadAllText(Golden("gpu1-write-in.xml")), "transform", "--host-root", Example6, "--memlock", "write", "--libvirt-version", "9.0.0");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.ReadAllText(Golden("gpu1-write-out.xml")), r.Stdout);
        Assert.Contains("added NVLink2 bridge 0006:00:00.1 of GPU 0004:04:00.0", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("cgroup memory limit", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_qemu_version_option_decides_how_a_Grace_domain_gets_its_nodes()
    {
        var grace = Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "grace-hopper-1gpu");
        string[] common = ["transform", Golden("grace-gh200-libvirt-9-qemu-9-in.xml"), "--host-root", grace, "--memlock", "auto", "--libvirt-version", "9.0.0"];

        var current = CliRunner.Run(null, [.. common, "--qemu-version", "9.2"]);
        Assert.Equal(0, current.ExitCode);
        Assert.Equal(File.ReadAllText(Golden("grace-gh200-libvirt-9-qemu-9-out.xml")), current.Stdout);

        var old = CliRunner.Run(null, [.. common, "--qemu-version", "8.2"]);
        Assert.Equal(2, old.ExitCode);
        Assert.Contains("QEMU 8.2 (--qemu-version) has no acpi-generic-initiator object", old.Stderr, StringComparison.Ordinal);
        Assert.Equal("", old.Stdout);

        var garbage = CliRunner.Run(null, [.. common, "--qemu-version", "nine"]);
        Assert.Equal(2, garbage.ExitCode);
        Assert.Contains("--qemu-version 'nine' is not a version like 9.2", garbage.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_file_is_written_whole_and_undo_restores_the_input()
    {
        var dir = TestRunTemp.NewDirectory("transform-");
        var out1 = Path.Combine(dir, "out.xml");
        var r = CliRunner.Run(null, "transform", Golden("partial-in.xml"), "--host-root", Example6, "--memlock", "write", "--libvirt-version", "9.0.0", "-o", out1);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal(File.ReadAllText(Golden("partial-out.xml")), File.ReadAllText(out1));
        Assert.Equal([out1], Directory.GetFiles(dir));
        var undo = CliRunner.Run(null, "transform", out1, "--undo");
        Assert.Equal(File.ReadAllText(Golden("partial-in.xml")), undo.Stdout);
    }

    [Fact]
    public void Refused_input_exits_2_and_writes_nothing()
    {
        var dir = TestRunTemp.NewDirectory("transform-");
        var target = Path.Combine(dir, "out.xml");
        File.WriteAllText(target, "previous content");
        var r = CliRunner.Run("<domain><name>x</name><os><type arch='x86_64'>hvm</type></os><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev></devices></domain>",
            "transform", "--host-root", Example6, "-o", target);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("domain 'x'", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("previous content", File.ReadAllText(target));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Diff_shows_the_change_and_writes_nothing()
    {
        var r = CliRunner.Run(null, "transform", Golden("gpu1-write-in.xml"), "--host-root", Example6, "--memlock", "write", "--libvirt-version", "9.0.0", "--diff");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("--- ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("+        <address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("+    <hard_limit unit='KiB'>604528640</hard_limit>", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("-", r.Stdout.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("---", StringComparison.Ordinal)).Select(l => l[..1]));
    }

    [Theory]
    [InlineData("--memlock", "sometimes")]
    [InlineData("--libvirt-version", "nine")]
    public void Bad_options_exit_2(string option, string value)
    {
        var r = CliRunner.Run(null, "transform", Golden("gpu1-write-in.xml"), "--host-root", Example6, option, value);
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Explain_json_has_the_documented_shape()
    {
        var r = CliRunner.Run(null, "explain", Golden("gpu1-write-out.xml"), "--host-root", Example6, "--json", "--libvirt-version", "9.0.0");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(619037327360UL, doc.RootElement.GetProperty("memlockBytes").GetUInt64());
        Assert.Equal("hard_limit", doc.RootElement.GetProperty("rule").GetString());
        var undo = CliRunner.Run(File.ReadAllText(Golden("gpu1-write-out.xml")).Replace("<memtune>\n    <hard_limit unit='KiB'>604528640</hard_limit>\n  </memtune>\n  ", "", StringComparison.Ordinal),
            "explain", "--host-root", Example6, "--json", "--libvirt-version", "9.0.0");
        using var doc2 = JsonDocument.Parse(undo.Stdout);
        Assert.Equal(619037327360UL, doc2.RootElement.GetProperty("memlockBytes").GetUInt64());
        Assert.Equal("ppc64-nvlink2", doc2.RootElement.GetProperty("rule").GetString());
        Assert.Equal(2, doc2.RootElement.GetProperty("phbCount").GetInt32());
        Assert.Equal(603987968UL, doc2.RootElement.GetProperty("terms").GetProperty("passthroughKiB").GetUInt64());
    }

    [Fact]
    public void Explain_says_when_a_GPU_is_assigned_without_its_bridges()
    {
        var r = CliRunner.Run(null, "explain", Golden("gpu1-write-in.xml"), "--host-root", Example6, "--libvirt-version", "9.0.0");
        Assert.Contains("ppc64-vfio", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("without its NVLink2 bridge(s) 0006:00:00.0, 0006:00:00.1", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_version_option_the_installed_libvirt_or_the_assumption_is_named()
    {
        var r = CliRunner.Run(null, "explain", Golden("gpu1-write-in.xml"), "--host-root", Example6, "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        var source = doc.RootElement.GetProperty("libvirtVersionSource").GetString();
        Assert.Contains(source, new[] { "libvirt on this host", "assumed (no libvirt found)" });
        if (File.Exists("/usr/lib/x86_64-linux-gnu/libvirt.so.0"))
        {
            Assert.Equal("libvirt on this host", source);
        }
    }
}
