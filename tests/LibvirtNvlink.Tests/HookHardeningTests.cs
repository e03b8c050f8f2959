using LibvirtNvlink.Config;
using LibvirtNvlink.Hook;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The root hook's own files, attacked as issue #13 did: planted undo records, FIFOs, symlinks, files others own or
/// can write, other processes' flocks, an unvalidated timeout, and release racing another domain's prepare.
/// </summary>
public sealed class HookHardeningTests : IDisposable
{
    private readonly List<string> _cleanup = [];

    private static string Golden(string name) => File.ReadAllText(Path.Combine(GoldenCase.Directory, name));

    /// <param name="damaged">A fresh copy of the host, for tests whose hook writes to it (or which plant files in it).</param>
    private HookHarness Harness(HostLayout layout, bool damaged = false)
    {
        var root = damaged ? SimulatedHosts.Fresh(layout) : SimulatedHosts.PathOf(layout);
        var h = new HookHarness(root);
        _cleanup.Add(h.Dir);
        if (damaged) _cleanup.Add(root);
        return h;
    }

    public void Dispose()
    {
        foreach (var d in _cleanup.Where(Directory.Exists)) Directory.Delete(d, recursive: true);
    }

    private static void Mkfifo(string path) => Assert.Equal(0, ProcessRunner.Run("mkfifo", [path]).ExitCode);

    private static void RequireRoot(string why) =>
        Assert.True(Environment.UserName == "root", $"this test needs root ({why}); scripts/test.sh runs as root in CI");

    private static void Chown(string path, string owner)
    {
        RequireRoot("chown to another user");
        Assert.Equal(0, ProcessRunner.Run("chown", [owner, path]).ExitCode);
    }

    /// <summary>Work on its own thread, as another hook process would run; Finished is set when it returns.</summary>
    private sealed class Background<T>
    {
        private readonly ManualResetEventSlim _finished = new();
        private T? _result;
        private Exception? _error;

        public Background(Func<T> action) => new Thread(() =>
        {
            try { _result = action(); }
            catch (Exception e) { _error = e; }
            finally { _finished.Set(); }
        }) { IsBackground = true }.Start();

        public bool FinishedWithin(TimeSpan t) => _finished.Wait(t, TestContext.Current.CancellationToken);

        public T Result => _error is null ? _result! : throw new InvalidOperationException("the background work failed", _error);
    }

    /// <summary>Runs <paramref name="action"/> on a thread; a hang fails the test instead of hanging the run.</summary>
    private static T Bounded<T>(Func<T> action, Action unblock)
    {
        var work = new Background<T>(action);
        if (!work.FinishedWithin(TimeSpan.FromSeconds(20)))
        {
            unblock();
            Assert.Fail("it blocked (still waiting after 20 s)");
        }
        return work.Result;
    }

    private static void UnblockFifo(string fifo) => File.WriteAllText(fifo, "");

    private const string Nv2Device = "0007:00:00.0";

    private static string DevicePath(string root, string file) => Path.Combine(root, $"sys/bus/pci/devices/{Nv2Device}/{file}");

    /// <summary>Binds the broken host's bridge with bind-managed-no, as prepare does, leaving an undo record.</summary>
    private static HookRun PrepareBinding(HookHarness h, string domain)
    {
        h.Configure("<bind-managed-no enabled='yes'/>");
        var r = h.Run(HookTestDomains.ManagedNoGpuWithBridgeOnIbmnpu(domain), domain, "prepare", "begin", "-");
        Assert.Equal("vfio-pci", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
        return r;
    }

    // 1. A planted undo record makes the root hook write anywhere.
    [Fact]
    public void A_planted_undo_record_whose_device_is_a_path_is_refused_and_nothing_is_written()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu, damaged: true);
        h.Configure("");
        var victim = Path.Combine(h.HostRoot, "victim");
        Directory.CreateDirectory(Path.Combine(victim, "driver"));
        File.WriteAllText(Path.Combine(victim, "driver_override"), "precious");
        File.WriteAllText(Path.Combine(victim, "driver", "unbind"), "precious");
        Directory.CreateDirectory(h.StateDir);
        File.WriteAllText(Path.Combine(h.StateDir, "g.json"), """{"domain":"g","changes":[{"device":"../../../../victim","originalDriver":"nvidia"}]}""");

        var r = h.Run("", "g", "release", "end", "-");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(victim, "driver_override")));
        Assert.Equal("precious", File.ReadAllText(Path.Combine(victim, "driver", "unbind")));
        Assert.Contains($"{Path.Combine(h.StateDir, "g.json")} is not an undo record the hook wrote", r.Log, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(h.StateDir, "g.json")), "the suspicious record is kept for the operator");
    }

    [Theory]
    [InlineData("""{"domain":"g","changes":[{"device":"0007:00:00.0","originalDriver":"../../x"}]}""", "names driver '../../x'")]
    [InlineData("""{"domain":"g","changes":[{"device":"0007:00:00.0","originalDriver":"ibmnpu","previousOverride":"e1000e"}]}""", "driver_override 'e1000e'")]
    [InlineData("""{"domain":"other","changes":[{"device":"0007:00:00.0","originalDriver":"ibmnpu"}]}""", "for domain 'other'")]
    [InlineData("""{"domain":"g","changes":[{"device":"7:0:0.0","originalDriver":"ibmnpu"}]}""", "changes[0].device")]
    public void An_undo_record_is_validated_field_by_field_before_any_sysfs_write(string record, string reason)
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        h.Configure("");
        File.WriteAllText(DevicePath(h.HostRoot, "driver_override"), "untouched");
        Directory.CreateDirectory(h.StateDir);
        File.WriteAllText(Path.Combine(h.StateDir, "g.json"), record);

        var r = h.Run("", "g", "release", "end", "-");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("untouched", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
        Assert.True(r.Log.Contains(reason, StringComparison.Ordinal), r.Log);
    }

    [Fact]
    public void An_undo_record_someone_else_owns_is_refused_naming_the_file_and_the_fix()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        PrepareBinding(h, "g");
        var record = Path.Combine(h.StateDir, "g.json");
        Chown(record, "65534");

        var r = h.Run("", "g", "release", "end", "-");

        Assert.Equal("vfio-pci", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
        Assert.Contains($"refusing {record}: it is owned by uid 65534, not root. Fix: if its content is yours, chown root:root {record}", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_directory_others_can_write_is_refused_and_release_changes_nothing()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        PrepareBinding(h, "g");
        File.SetUnixFileMode(h.StateDir, (UnixFileMode)0x1FF /* 0777 */);

        var r = h.Run("", "g", "release", "end", "-");

        Assert.Equal("vfio-pci", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
        Assert.Contains($"refusing {h.StateDir}: group or others can write it (mode 0777). Fix: chmod go-w {h.StateDir}", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void The_state_directory_is_created_0700_and_records_0600()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        PrepareBinding(h, "g");
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(h.StateDir));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Path.Combine(h.StateDir, "g.json")));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(h.LockDir));
    }

    // 2. A FIFO at the config path or at the validated copy hangs the hook forever.
    [Fact]
    public void A_FIFO_at_the_config_path_is_refused_at_once_naming_the_file()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        File.Delete(h.ConfigPath);
        Mkfifo(h.ConfigPath);

        var r = Bounded(() => h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-"), () => UnblockFifo(h.ConfigPath));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"refusing {h.ConfigPath}: it is a FIFO, not a regular file", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_FIFO_at_the_validated_copy_costs_a_validation_and_is_replaced()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        h.Configure("<policy incomplete='warn'/>");
        Directory.CreateDirectory(h.StateDir);
        var copy = HookConfigLoader.ValidatedCopyPath(h.StateDir);
        Mkfifo(copy);

        var config = Bounded(() => HookConfigLoader.Load(h.ConfigPath, h.StateDir), () => UnblockFifo(copy));

        Assert.Equal(IncompletePolicy.Warn, config.Policy);
        Assert.Equal(File.ReadAllText(h.ConfigPath), File.ReadAllText(copy));
    }

    // 3. A planted validated copy skips schema validation, and its timeout overflowed the watchdog.
    [Fact]
    public void A_validated_copy_with_a_timeout_beyond_the_schema_is_refused_by_the_code_too()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        h.Configure("<hook timeout-seconds='3000000'/>");
        Directory.CreateDirectory(h.StateDir);
        File.Copy(h.ConfigPath, HookConfigLoader.ValidatedCopyPath(h.StateDir));

        var e = Assert.Throws<HookConfigException>(() => HookConfigLoader.Load(h.ConfigPath, h.StateDir));
        Assert.Contains("<hook timeout-seconds='3000000'> is not a number of seconds from 1 to 300", e.Message, StringComparison.Ordinal);
        var reconnect = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "reconnect", "begin", "-");
        Assert.Equal(0, reconnect.ExitCode);
    }

    [Theory]
    [InlineData(3000000.0, 300.0)]
    [InlineData(0.0, 1.0)]
    [InlineData(-5.0, 1.0)]
    [InlineData(42.5, 42.5)]
    public void The_watchdog_bounds_any_timeout_it_is_given(double seconds, double bounded) =>
        Assert.Equal(TimeSpan.FromSeconds(bounded), Watchdog.Bound(TimeSpan.FromSeconds(seconds)));

    // 4. The log file and the lock files were opened following symlinks.
    [Fact]
    public void A_symlink_at_the_log_path_is_not_followed()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        var victim = Path.Combine(h.Dir, "victim");
        File.WriteAllText(victim, "precious\n");
        File.CreateSymbolicLink(h.LogPath, victim);

        h.Run(Golden("gpu1-write-in.xml"), "gpu1", "prepare", "begin", "-");

        Assert.Equal("precious\n", File.ReadAllText(victim));
    }

    [Fact]
    public void A_symlink_at_a_lock_path_is_not_followed_and_the_bind_is_refused()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        h.Configure("<bind-managed-no enabled='yes'/>");
        Directory.CreateDirectory(h.LockDir, (UnixFileMode)0x1C0);
        var target = Path.Combine(h.Dir, "created-through-the-link");
        File.CreateSymbolicLink(GroupLock.PathFor(h.LockDir, 10), target);

        var r = h.Run(HookTestDomains.ManagedNoGpuWithBridgeOnIbmnpu("g"), "g", "prepare", "begin", "-");

        Assert.False(File.Exists(target), "the lock was created through the planted link");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"refusing {GroupLock.PathFor(h.LockDir, 10)}: it is a symbolic link", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("(null)", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")).Trim());
    }

    // The same rules for the configuration itself: root's alone.
    [Fact]
    public void A_config_others_can_write_is_refused_at_prepare_naming_the_file_and_the_fix()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        File.SetUnixFileMode(h.ConfigPath, (UnixFileMode)0x1B6 /* 0666 */);
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"refusing {h.ConfigPath}: group or others can write it (mode 0666). Fix: chmod go-w {h.ConfigPath}", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, h.Run(Golden("gpu1-write-out.xml"), "gpu1", "reconnect", "begin", "-").ExitCode);
    }

    [Fact]
    public void A_config_another_user_owns_is_refused()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        Chown(h.ConfigPath, "65534");
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"refusing {h.ConfigPath}: it is owned by uid 65534, not root", r.Stderr, StringComparison.Ordinal);
    }

    // 5. Anyone who can read the config could stop every GPU guest with flock -x.
    [Fact]
    public void Another_processs_exclusive_flock_on_the_config_neither_blocks_nor_fails_the_hook()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        // FileShare.None makes .NET take flock(LOCK_EX) on its own open file description, as `flock -x` would.
        using var held = new FileStream(h.ConfigPath, FileMode.Open, FileAccess.Read, FileShare.None);

        var r = Bounded(() => h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-"), () => held.Dispose());

        Assert.True(r.ExitCode == 0, r.Stderr + r.Log);
        Assert.Contains("preflight passed", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_processs_exclusive_flock_on_an_undo_record_does_not_stop_release()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        PrepareBinding(h, "g");
        using (new FileStream(Path.Combine(h.StateDir, "g.json"), FileMode.Open, FileAccess.Read, FileShare.None))
        {
            var r = Bounded(() => h.Run("", "g", "release", "end", "-"), () => { });
            Assert.Contains($"gave back {Nv2Device}", r.Log, StringComparison.Ordinal);
        }
        Assert.Equal("\n", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
    }

    // 7 (the hook's side). The watchdog is armed before the first read of anything but the triage's.
    [Fact]
    public void The_watchdog_is_armed_before_the_configuration_is_read()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        h.Configure("<policy incomplete='warn'/>");
        var armings = new List<HookConfig>();
        // Whatever the configuration says when the watchdog is first armed is what the hook must read afterwards.
        var r = h.RunWith((_, _, config) =>
        {
            if (armings.Count == 0) File.WriteAllText(h.ConfigPath, "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><policy incomplete='maybe'/></libvirt-nvlink>");
            armings.Add(config);
        }, Golden("gpu1-write-in.xml"), "gpu1", "prepare", "begin", "-");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("'maybe'", r.Stderr, StringComparison.Ordinal);
        Assert.Same(HookConfig.Default, armings[0]);
    }

    [Fact]
    public void The_watchdog_already_guards_the_parse_of_a_domain_it_then_finds_unreadable()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        var armings = 0;
        var xml = "<domain><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev><oops></devices></domain>";
        var r = h.RunWith((_, _, _) => armings++, xml, "x", "prepare", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(1, armings);
    }

    [Fact]
    public void The_configured_timeout_is_bounded_by_the_schema()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        foreach (var (seconds, valid) in new[] { ("0.5", false), ("1", true), ("300", true), ("301", false) })
        {
            File.WriteAllText(h.ConfigPath, $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><hook timeout-seconds='{seconds}'/></libvirt-nvlink>");
            var e = Record.Exception(() => HookConfig.Parse(File.ReadAllText(h.ConfigPath), h.ConfigPath));
            Assert.True(valid == (e is null), $"{seconds}: {e?.Message}");
        }
    }

    // 10. release took no IOMMU-group lock, and cleared driver_override instead of restoring it.
    [Fact]
    public void Release_restores_the_previous_driver_override()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        File.WriteAllText(DevicePath(h.HostRoot, "driver_override"), "ibmnpu\n");
        PrepareBinding(h, "g");
        Assert.Contains("\"previousOverride\": \"ibmnpu\"", File.ReadAllText(Path.Combine(h.StateDir, "g.json")), StringComparison.Ordinal);

        h.Run("", "g", "release", "end", "-");

        Assert.Equal("ibmnpu", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
    }

    [Fact]
    public void Release_waits_for_the_IOMMU_group_lock_another_hook_holds()
    {
        var h = Harness(BuiltInLayouts.WitherspoonBroken, damaged: true);
        PrepareBinding(h, "g");
        var held = GroupLock.Acquire(h.LockDir, 10);
        Background<HookRun> release;
        try
        {
            release = new Background<HookRun>(() => h.Run("", "g", "release", "end", "-"));
            Assert.False(release.FinishedWithin(TimeSpan.FromMilliseconds(500)), "release finished while another hook held the group's lock");
            Assert.Equal("vfio-pci", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
        }
        finally
        {
            held.Dispose();
        }
        Assert.True(release.FinishedWithin(TimeSpan.FromSeconds(20)), "release never got the lock");
        Assert.Contains($"gave back {Nv2Device}", release.Result.Log, StringComparison.Ordinal);
        Assert.Equal("\n", File.ReadAllText(DevicePath(h.HostRoot, "driver_override")));
    }

    // Reading libvirt's capability cache: a FIFO or link there says nothing and hangs nothing.
    [Fact]
    public void A_FIFO_or_symlink_in_libvirts_capability_cache_is_skipped()
    {
        var h = Harness(BuiltInLayouts.Witherspoon6Gpu);
        var real = Path.Combine(h.CacheDir, "ppc64.xml");
        var text = File.ReadAllText(real);
        File.Delete(real);
        Mkfifo(Path.Combine(h.CacheDir, "a-fifo.xml"));
        var elsewhere = Path.Combine(h.Dir, "planted.xml");
        File.WriteAllText(elsewhere, text);
        File.CreateSymbolicLink(Path.Combine(h.CacheDir, "link.xml"), elsewhere);

        var read = Bounded(() => PlatformReader.ReadLibvirtCache(h.CacheDir, "/usr/bin/qemu-system-ppc64"), () => UnblockFifo(Path.Combine(h.CacheDir, "a-fifo.xml")));

        Assert.Equal((null, null, null), read);
        File.WriteAllText(real, text);
        var trusted = PlatformReader.ReadLibvirtCache(h.CacheDir, "/usr/bin/qemu-system-ppc64");
        Assert.Equal(((7, 2), 9000000UL), (trusted.Qemu, trusted.LibvirtNumber));
    }
}
