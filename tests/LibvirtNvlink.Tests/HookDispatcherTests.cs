using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Tests;

/// <summary>What the hook does for each lifecycle event, on simulated hosts.</summary>
public class HookDispatcherTests
{
    private static string Golden(string name) => File.ReadAllText(Path.Combine(GoldenCase.Directory, name));

    /// <summary>Re-points a simulated device's driver link from vfio-pci to nvidia, as the host driver would bind it.</summary>
    private static void BindToNvidia(string root, string device)
    {
        var driverLink = Path.Combine(root, $"sys/bus/pci/devices/{device}/driver");
        var real = new FileInfo(driverLink).LinkTarget!;
        File.Delete(driverLink);
        Directory.CreateDirectory(Path.Combine(root, "sys/bus/pci/drivers/nvidia"));
        File.CreateSymbolicLink(driverLink, real.Replace("vfio-pci", "nvidia", StringComparison.Ordinal));
    }

    private static HookHarness On(HostLayout layout, string? config = null, (int, int)? qemu = null) =>
        new(SimulatedHosts.PathOf(layout), config, qemu);

    [Fact]
    public void Prepare_refuses_a_GPU_without_its_bridges_with_a_paragraph_naming_domain_device_and_fix()
    {
        var h = On(BuiltInLayouts.Witherspoon6Gpu);
        var r = h.Run(Golden("gpu1-write-in.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("libvirt-nvlink refused to start 'gpu1':", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("GPU 0004:04:00.0 without its NVLink2 bridge(s) 0006:00:00.0, 0006:00:00.1", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("libvirt-nvlink apply --domain gpu1", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("domain 'gpu1' prepare begin: refused", r.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gpu1-write-out.xml")]
    [InlineData("six-gpus-out.xml")]
    [InlineData("two-gpus-two-groups-out.xml")]
    public void Prepare_passes_a_transformed_domain(string file)
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run(Golden(file), "d", "prepare", "begin", "-");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Log);
        Assert.Equal("", r.Stderr);
        Assert.Contains("preflight passed", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_warn_logs_the_errors_and_lets_the_domain_start()
    {
        var h = new HookHarness(SimulatedHosts.PathOf(BuiltInLayouts.Witherspoon6Gpu), config: null);
        File.WriteAllText(h.ConfigPath, $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><policy incomplete='warn'/><log target='file' path='{h.LogPath}'/></libvirt-nvlink>");
        var r = h.Run(Golden("gpu1-write-in.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Contains("error incomplete-nv2-gpu 0004:04:00.0", r.Log, StringComparison.Ordinal);
        Assert.Contains("starting anyway (policy warn)", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Reconnect_never_fails_even_for_a_broken_domain()
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run(Golden("gpu1-write-in.xml"), "gpu1", "reconnect", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Contains("running guest has incomplete-nv2-gpu", r.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("start", "begin", "-")]
    [InlineData("stopped", "end", "-")]
    [InlineData("release", "end", "destroyed")]
    [InlineData("migrate", "begin", "-")]
    [InlineData("restore", "begin", "-")]
    [InlineData("unknown-op", "begin", "-")]
    public void Other_ops_exit_0_and_print_nothing(string op, string subOp, string extra)
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run(Golden("gpu1-write-in.xml"), "gpu1", op, subOp, extra);
        Assert.Equal((0, ""), (r.ExitCode, r.Stderr));
    }

    [Theory]
    [InlineData("")]
    [InlineData("<domain><name>x</name>")]
    [InlineData("<domain><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev><oops></devices></domain>")]
    public void Empty_or_garbage_stdin_never_blocks_a_start(string xml)
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run(xml, "x", "prepare", "begin", "-");
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void Too_few_arguments_exit_2_with_usage()
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run("", "x");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_config_refuses_at_prepare_naming_the_file_but_never_at_reconnect()
    {
        var h = On(BuiltInLayouts.Witherspoon6Gpu);
        File.WriteAllText(h.ConfigPath, "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><policy incomplete='maybe'/></libvirt-nvlink>");
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(h.ConfigPath, r.Stderr, StringComparison.Ordinal);
        Assert.Contains("maybe", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Fix the file", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, h.Run(Golden("gpu1-write-out.xml"), "gpu1", "reconnect", "begin", "-").ExitCode);
    }

    [Fact]
    public void A_config_with_a_DTD_is_refused_not_resolved()
    {
        var h = On(BuiltInLayouts.Witherspoon6Gpu);
        File.WriteAllText(h.ConfigPath, "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'/>");
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("DTD", r.Stderr, StringComparison.Ordinal);
        // Told apart from an internal error by its type (HookConfigException), so the fix it names is the file's.
        Assert.Contains("Fix the file", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void GPU_RAM_online_on_the_host_is_refused()
    {
        var xml = Golden("gpu1-write-out.xml").Replace("bus='0x04' slot='0x00' function='0x0'", "bus='0x06' slot='0x00' function='0x0'", StringComparison.Ordinal)
            .Replace("slot='0x00' function='0x0'/>\n      </source>\n      <address type='pci' domain='0x0000' bus='0x01' slot='0x02'", "slot='0x02' function='0x0'/>\n      </source>\n      <address type='pci' domain='0x0000' bus='0x01' slot='0x02'", StringComparison.Ordinal)
            .Replace("bus='0x00' slot='0x00' function='0x1'", "bus='0x00' slot='0x02' function='0x1'", StringComparison.Ordinal);
        var r = On(BuiltInLayouts.WitherspoonBroken).Run(xml, "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("gpu-ram-online", r.Log, StringComparison.Ordinal);
        Assert.Contains("RAM of GPU 0004:06:00.0 is online", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_without_vfio_pci_nvlink2_is_refused_plainly()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        File.WriteAllText(Path.Combine(root, "proc/sys/kernel/osrelease"), "6.1.0-25-powerpc64le\n");
        var r = new HookHarness(root).Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Linux 5.13 removed vfio_pci_nvlink2", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_QEMU_without_spapr_NVLink2_is_refused_plainly()
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu, qemu: (8, 2)).Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("QEMU 8.2 removed spapr NVLink2", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_memlock_limit_below_the_NVLink2_requirement_is_refused_with_the_value_to_set()
    {
        var xml = Golden("gpu1-write-out.xml").Replace("<hard_limit unit='KiB'>604528640</hard_limit>", "<hard_limit unit='GiB'>80</hard_limit>", StringComparison.Ordinal);
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run(xml, "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("<hard_limit unit='KiB'>604528640</hard_limit>", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compound_group_member_on_a_host_driver_and_not_assigned_makes_the_group_not_viable()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon4GpuCompound);
        BindToNvidia(root, "0004:05:00.0");
        var r = new HookHarness(root).Run(Golden("compound-one-gpu-out.xml"), "c", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("IOMMU group 7 is not viable: 0004:05:00.0", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_GPU_on_the_nvidia_driver_held_by_nvidia_persistenced_is_refused()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        BindToNvidia(root, "0004:04:00.0");
        Directory.CreateDirectory(Path.Combine(root, "proc/4242"));
        File.WriteAllText(Path.Combine(root, "proc/4242/comm"), "nvidia-persistenced\n");
        var r = new HookHarness(root).Run(Golden("gpu1-write-out.xml"), "gpu1", "prepare", "begin", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("held by host process(es) nvidia-persistenced (pid 4242)", r.Stderr + r.Log, StringComparison.Ordinal);
        Assert.Contains("systemctl stop nvidia-persistenced", r.Stderr + r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Started_reads_the_QEMU_process_limit_from_the_hosts_proc_and_logs_it()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        Directory.CreateDirectory(Path.Combine(root, "proc/4243"));
        File.WriteAllText(Path.Combine(root, "proc/4243/limits"),
            "Limit                     Soft Limit           Hard Limit           Units     \n" +
            "Max locked memory         65536                65536                bytes     \n");
        var h = new HookHarness(root);
        File.WriteAllText(Path.Combine(h.RunDir, "gpu1.pid"), "4243\n");
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "started", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        // The simulated QEMU's limit, not the test runner's own.
        Assert.Contains("QEMU pid 4243 Max locked memory 65536 bytes", r.Log, StringComparison.Ordinal);
        Assert.Contains("below the NVLink2 requirement 619037327360 bytes", r.Log, StringComparison.Ordinal);
    }

    /// <summary>A GH200 guest whose hostdev uses iommufd, on the simulated GH200 host, with QEMU's limits file.</summary>
    private static HookHarness GraceStarted(string limit, out string xml)
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.GraceHopper1Gpu);
        Directory.CreateDirectory(Path.Combine(root, "proc/4244"));
        File.WriteAllText(Path.Combine(root, "proc/4244/limits"),
            "Limit                     Soft Limit           Hard Limit           Units     \n" +
            $"Max locked memory         {limit,-20} {limit,-20} bytes     \n");
        var h = new HookHarness(root, qemu: (11, 1), libvirt: "12008000");
        File.WriteAllText(Path.Combine(h.RunDir, "gh.pid"), "4244\n");
        xml = GraceMemlockDomains.GuestXml(16 * 1024, [GraceMemlockDomains.Gh200], GuestIommuLayout.Flat, GuestVfioBackend.IommufdPerHostdev)
            .Replace("<devices>\n", "<devices>\n    <emulator>/usr/bin/qemu-system-aarch64</emulator>\n", StringComparison.Ordinal);
        return h;
    }

    [Theory]
    // libvirt 12.8 sets 16 GiB + 1 GiB; with iommufd the GH200's 129 GiB of BARs are charged too.
    [InlineData("18253611008", "Max locked memory 18253611008 bytes is below the Grace requirement 156783083520 bytes, 1 x guest RAM")]
    [InlineData("unlimited", "Max locked memory unlimited (Grace requirement 156783083520 bytes, 1 x guest RAM")]
    public void Started_compares_a_Grace_guests_limit_with_the_Grace_requirement_not_the_NVLink2_one(string limit, string logged)
    {
        var h = GraceStarted(limit, out var xml);
        var r = h.Run(xml, "gh", "started", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("QEMU pid 4244 " + logged, r.Log, StringComparison.Ordinal);
        Assert.Equal(limit != "unlimited", r.Log.Contains("may fail with ENOMEM", StringComparison.Ordinal));
        Assert.DoesNotContain("NVLink2", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Started_without_the_process_in_the_hosts_proc_says_it_cannot_read_the_limit()
    {
        var h = On(BuiltInLayouts.Witherspoon6Gpu);
        File.WriteAllText(Path.Combine(h.RunDir, "gpu1.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var r = h.Run(Golden("gpu1-write-out.xml"), "gpu1", "started", "begin", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"cannot read /proc/{Environment.ProcessId}/limits", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_managed_no_binds_at_prepare_and_gives_back_at_release_once()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.WitherspoonBroken);
        var h = new HookHarness(root);
        File.WriteAllText(h.ConfigPath, $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><bind-managed-no enabled='yes'/><log target='file' path='{h.LogPath}'/></libvirt-nvlink>");
        var xml = HookTestDomains.ManagedNoGpuWithBridgeOnIbmnpu("b");
        h.Run(xml, "b", "prepare", "begin", "-");
        Assert.Equal("vfio-pci", File.ReadAllText(Path.Combine(root, "sys/bus/pci/devices/0007:00:00.0/driver_override")));
        Assert.Equal("0007:00:00.0", File.ReadAllText(Path.Combine(root, "sys/bus/pci/drivers/ibmnpu/unbind")));
        Assert.Equal("0007:00:00.0", File.ReadAllText(Path.Combine(root, "sys/bus/pci/drivers_probe")));
        Assert.Contains("bound 0007:00:00.0 to vfio-pci", File.ReadAllText(h.LogPath), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(h.StateDir, "b.json")));

        var release = h.Run(xml, "b", "release", "end", "destroyed");
        Assert.Equal(0, release.ExitCode);
        Assert.Equal("\n", File.ReadAllText(Path.Combine(root, "sys/bus/pci/devices/0007:00:00.0/driver_override")));
        Assert.Contains("gave back 0007:00:00.0", release.Log, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(h.StateDir, "b.json")));
        var again = h.Run(xml, "b", "release", "end", "-");
        Assert.Equal(0, again.ExitCode);
    }

    [Theory]
    [InlineData("prepare", "begin", 1)]
    [InlineData("reconnect", "begin", 0)]
    [InlineData("started", "begin", 0)]
    public void An_unexpected_failure_ends_in_the_hooks_own_exit_code_never_a_crash(string op, string subOp, int expected)
    {
        var h = On(BuiltInLayouts.Witherspoon6Gpu);
        var stderr = new StringWriter();
        var dispatcher = new Hook.HookDispatcher(h.Environment, stderr)
        {
            // Armed first with the defaults, before the configuration (and its log file) is read; the second arming
            // comes once the log is set up.
            ArmWatchdog = (_, _, config) => { if (!ReferenceEquals(config, Config.HookConfig.Default)) throw new InvalidCastException("simulated bug"); },
        };
        Assert.Equal(expected, dispatcher.Run(["gpu1", op, subOp, "-"], Golden("gpu1-write-out.xml")));
        Assert.Contains("InvalidCastException", File.ReadAllText(h.LogPath), StringComparison.Ordinal);
        if (expected == 1) Assert.Contains("could not check domain 'gpu1'", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_without_an_undo_record_does_nothing()
    {
        var r = On(BuiltInLayouts.Witherspoon6Gpu).Run("", "nobody", "release", "end", "-");
        Assert.Equal((0, "", ""), (r.ExitCode, r.Stderr, r.Log));
    }
}
