using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

/// <summary>Every problem on the broken host is reported as data, on the right device, with the right severity.</summary>
public class FindingTests
{
    private static HostTopology Broken => SimulatedHosts.Topology(BuiltInLayouts.WitherspoonBroken);

    [Theory]
    [InlineData("missing-nvlink-speed", "0006:00:00.1", Severity.Error)]
    [InlineData("bridge-missing-from-pci", "0004:05:00.0", Severity.Error)]
    [InlineData("split-iommu-group", "0004:05:00.0", Severity.Error)]
    [InlineData("bridge-tgt-mismatch", "0004:06:00.0", Severity.Error)]
    [InlineData("gpu-ram-online", "0004:06:00.0", Severity.Error)]
    [InlineData("host-driver-bound", "0004:06:00.0", Severity.Warning)]
    [InlineData("host-driver-bound", "0007:00:00.0", Severity.Warning)]
    [InlineData("bridge-not-listed-by-gpu", "0007:00:00.1", Severity.Error)]
    [InlineData("bad-property", "0007:00:01.0", Severity.Error)]
    [InlineData("dangling-link", "0007:00:02.0", Severity.Error)]
    [InlineData("symlink-loop", "0007:00:02.1", Severity.Error)]
    [InlineData("compound-iommu-group", "0035:04:00.0,0035:05:00.0", Severity.Warning)]
    [InlineData("atsd-fallback", "0007:00:00.1", Severity.Info)]
    [InlineData("unusual-link-count", "0035:03:00.0", Severity.Warning)]
    public void The_broken_host_reports(string code, string device, Severity severity)
    {
        var f = Broken.Findings.FirstOrDefault(x => x.Code == code && x.Device == device);
        Assert.True(f is not null, $"no {code} finding on {device}; got:\n{string.Join("\n", Broken.Findings.Select(x => $"{x.Code} {x.Device}"))}");
        Assert.Equal(severity, f.Severity);
        Assert.Contains(device.Split(',')[0], f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_speed_hides_the_bridge_from_libvirts_NV2_test()
    {
        Assert.False(Broken.BridgeAt(Pci.PciAddress.Parse("0006:00:00.1"))!.LibvirtSeesNv2Bridge);
        Assert.True(Broken.BridgeAt(Pci.PciAddress.Parse("0006:00:00.0"))!.LibvirtSeesNv2Bridge);
    }

    [Fact]
    public void Errors_are_listed_before_warnings_and_infos()
    {
        var severities = Broken.Findings.Select(f => (int)f.Severity).ToList();
        Assert.Equal(severities.OrderDescending(), severities);
        Assert.True(Broken.HasErrors);
    }

    [Fact]
    public void A_truncated_property_names_the_file_and_is_not_an_exception()
    {
        var f = Broken.Findings.Single(x => x.Code == "bad-property" && x.Device == "0007:00:01.0");
        Assert.Contains("/pciex@6230200000000/bridge@1/ibm,device-tgt-addr", f.Message, StringComparison.Ordinal);
        Assert.Contains("6 bytes", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_where_a_property_file_belongs_is_a_finding_naming_the_path()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        var prop = Path.Combine(root, "sys/firmware/devicetree/base/pciex@6030200000000/bridge@0/ibm,device-tgt-addr");
        File.Delete(prop);
        Directory.CreateDirectory(prop);
        var t = HostDiscovery.Discover(new HostRoot(root));
        var f = Assert.Single(t.Findings, x => x.Code == "unreadable-property");
        Assert.Equal("0006:00:00.0", f.Device);
        Assert.Contains(prop, f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fifo_where_a_sysfs_attribute_belongs_never_hangs_discovery()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        var vendor = Path.Combine(root, "sys/bus/pci/devices/0004:04:00.0/vendor");
        var real = new FileInfo(vendor).FullName;
        File.Delete(vendor);
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [vendor]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        var discovery = Task.Run(() => HostDiscovery.Discover(new HostRoot(root)), TestContext.Current.CancellationToken);
        var t = await discovery.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Null(t.GpuAt(Pci.PciAddress.Parse("0004:04:00.0")));
        Assert.Contains(t.Findings, x => x.Device == "0004:04:00.0" && x.Message.Contains(real.Split("/sys/")[0], StringComparison.Ordinal));
    }

    [Fact]
    public void A_dangling_bus_link_is_reported_and_the_other_devices_still_read()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        var link = Path.Combine(root, "sys/bus/pci/devices/0001:01:00.0");
        File.Delete(link);
        File.CreateSymbolicLink(link, "../../../devices/nowhere");
        var t = HostDiscovery.Discover(new HostRoot(root));
        Assert.Contains(t.Findings, x => x.Code == "dangling-link" && x.Device == "0001:01:00.0");
        Assert.Equal(6, t.Gpus.Count);
    }

    [Fact]
    public void A_directory_that_is_not_a_host_root_is_a_clear_error()
    {
        var e = Assert.Throws<HostRootException>(() => HostDiscovery.Discover(new HostRoot("/nonexistent-host-root")));
        Assert.Contains("/nonexistent-host-root/sys/bus/pci/devices", e.Message, StringComparison.Ordinal);
    }
}
