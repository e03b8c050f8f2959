using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// Issue #13 through the binaries as they ship: the NativeAOT hook (its resource strings, its watchdog thread) and
/// the CLI against libvirt's test driver.
/// </summary>
public sealed class HookHardeningEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvn-hardening-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Golden(string name) => File.ReadAllText(Path.Combine(GoldenCase.Directory, name));

    private Dictionary<string, string> Environment(string config)
    {
        var env = new Dictionary<string, string>
        {
            ["LIBVIRT_NVLINK_HOST_ROOT"] = Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"),
            ["LIBVIRT_NVLINK_CONFIG"] = Path.Combine(_dir, "config.xml"),
            ["LIBVIRT_NVLINK_STATE_DIR"] = Path.Combine(_dir, "state"),
            ["LIBVIRT_NVLINK_LOCK_DIR"] = Path.Combine(_dir, "locks"),
        };
        File.WriteAllText(env["LIBVIRT_NVLINK_CONFIG"],
            $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'>{config}<log target='file' path='{Path.Combine(_dir, "hook.log")}'/></libvirt-nvlink>");
        return env;
    }

    private static ProcessResult Hook(Dictionary<string, string> env, string op, string subOp) =>
        Processes.RunWithEnvironment(PublishedHook.Hook, ["gpu1", op, subOp, "-"], env, Golden("gpu1-write-out.xml"), timeoutSeconds: 60);

    // 3. A planted validated copy with timeout-seconds='3000000' overflowed Thread.Sleep: exit 134, at reconnect a
    // killed guest.
    [Theory]
    [InlineData("reconnect", 0)]
    [InlineData("prepare", 1)]
    public void A_planted_validated_copy_with_an_absurd_timeout_ends_in_the_hooks_own_exit_code(string op, int exitCode)
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var env = Environment("<hook timeout-seconds='3000000'/>");
        Directory.CreateDirectory(env["LIBVIRT_NVLINK_STATE_DIR"], (UnixFileMode)0x1C0);
        var schema = Config.HookConfig.SchemaFingerprint;
        File.Copy(env["LIBVIRT_NVLINK_CONFIG"], Path.Combine(env["LIBVIRT_NVLINK_STATE_DIR"], $"config.validated-{schema}.xml"));

        var r = Hook(env, op, "begin");

        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.Stderr}");
        if (exitCode == 1) Assert.Contains("is not a number of seconds from 1 to 300", r.Stderr, StringComparison.Ordinal);
    }

    // 6. The AOT hook showed .NET resource keys (Sch_AttributeValueDataTypeDetailed) instead of messages.
    [Fact]
    public void The_published_hook_explains_an_invalid_configuration_in_words_not_resource_keys()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var r = Hook(Environment("<hook timeout-seconds='ten'/>"), "prepare", "begin");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("'timeout-seconds' attribute is invalid", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\b(Sch|Xml|IO|Arg)_[A-Za-z]+", r.Stderr);
    }

    // 2, through the shipped binary: a FIFO at the config path answered at once.
    [Fact]
    public void The_published_hook_refuses_a_FIFO_at_the_config_path_at_once()
    {
        Assert.True(PublishedHook.ExitCode == 0, PublishedHook.Output);
        var env = Environment("");
        File.Delete(env["LIBVIRT_NVLINK_CONFIG"]);
        Assert.Equal(0, Processes.Run("mkfifo", [env["LIBVIRT_NVLINK_CONFIG"]]).ExitCode);
        var r = Hook(env, "prepare", "begin");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"refusing {env["LIBVIRT_NVLINK_CONFIG"]}: it is a FIFO", r.Stderr, StringComparison.Ordinal);
    }

    // 9. define --backup-dir named the backup after the input's <name>: '../../x' wrote outside the directory.
    [Fact]
    public void Define_names_the_backup_from_the_UUID_and_keeps_it_inside_the_backup_directory()
    {
        Processes.RequireOrSkip(Libvirt.LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");
        var backups = Path.Combine(_dir, "a", "b", "backups");
        Directory.CreateDirectory(backups);
        var input = Path.Combine(_dir, "evil.xml");
        // The UUID of the test driver's own domain 'test', so define finds a definition to back up first.
        File.WriteAllText(input, """
            <domain type='test'><name>../../x</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>8388608</memory>
              <os><type arch='i686'>hvm</type></os></domain>
            """);

        var r = CliRunner.Run(null, "define", input, "--connect", "test:///default", "--backup-dir", backups,
            "--host-root", Path.Combine(CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"));

        var saved = Assert.Single(Directory.GetFiles(backups));
        Assert.StartsWith("6695eb01-f6a4-8304-79aa-97f2502e193f-test-", Path.GetFileName(saved), StringComparison.Ordinal);
        Assert.Equal(["backups"], Directory.GetFileSystemEntries(Path.Combine(_dir, "a", "b")).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "a")));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(saved));
        Assert.NotEqual(0, r.ExitCode);
    }
}
