using LibvirtNvlink.Hook;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Tests;

/// <summary>The hook's first decision: exit at once, or parse the domain and look closer.</summary>
public class HookTriageTests
{
    private static readonly PciAddress Gpu = PciAddress.Parse("0004:04:00.0");

    private static HookTriage.Verdict Decide(string op, string subOp, string xml, bool undo = false) =>
        HookTriage.Decide(new HookInvocation("d", op, subOp, "-"), xml, a => a == Gpu, _ => undo);

    private const string GpuXml = "<domain><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev></devices></domain>";

    [Theory]
    [InlineData("prepare", "begin")]
    [InlineData("started", "begin")]
    [InlineData("reconnect", "begin")]
    public void A_domain_with_a_device_of_interest_is_examined_at_the_ops_that_check(string op, string subOp)
    {
        Assert.Equal(HookTriage.Verdict.Examine, Decide(op, subOp, GpuXml));
    }

    [Theory]
    [InlineData("start", "begin")]
    [InlineData("stopped", "end")]
    [InlineData("migrate", "begin")]
    [InlineData("restore", "begin")]
    [InlineData("attach", "begin")]
    [InlineData("some-future-op", "begin")]
    [InlineData("prepare", "end")]
    public void Other_ops_are_done_at_once(string op, string subOp)
    {
        Assert.Equal(HookTriage.Verdict.Done, Decide(op, subOp, GpuXml));
    }

    [Fact]
    public void Release_looks_closer_only_when_an_undo_record_exists()
    {
        Assert.Equal(HookTriage.Verdict.Done, Decide("release", "end", GpuXml));
        Assert.Equal(HookTriage.Verdict.Examine, Decide("release", "end", "", undo: true));
    }

    [Theory]
    [InlineData("")]
    [InlineData("<domain><name>plain</name><devices><disk/></devices></domain>")]
    [InlineData("not xml at all <<<")]
    public void Domains_without_hostdevs_are_done_without_parsing(string xml)
    {
        Assert.Equal(HookTriage.Verdict.Done, Decide("prepare", "begin", xml));
    }

    [Fact]
    public void Hostdevs_of_other_devices_are_done()
    {
        var xml = GpuXml.Replace("bus='0x04'", "bus='0x05'", StringComparison.Ordinal);
        Assert.Equal(HookTriage.Verdict.Done, Decide("prepare", "begin", xml));
    }

    [Theory]
    [InlineData("<address function='0x0' slot='0x00' bus='0x04' domain='0x0004'/>")]
    [InlineData("<address domain=\"0x0004\" bus=\"0x04\" slot=\"0x00\" function=\"0x0\"/>")]
    [InlineData("<address domain='4' bus='4' slot='0' function='0'/>")]
    [InlineData("<address\n   domain = '0x0004'\n   bus='0x04' slot='0x00'/>")]
    public void Addresses_are_read_in_any_attribute_order_quoting_base_and_layout(string address)
    {
        var found = HookTriage.PciAddresses($"<hostdev><source>{address}</source></hostdev>", out var unreadable);
        Assert.Equal([Gpu], found);
        Assert.Equal(0, unreadable);
    }

    [Fact]
    public void An_address_the_scan_cannot_read_is_examined_rather_than_risk_missing_a_GPU()
    {
        Assert.Equal(HookTriage.Verdict.Examine, Decide("prepare", "begin", "<hostdev><source><address domain='0x0004' bus='0x1zz' slot='0x00'/></source></hostdev>"));
    }

    [Fact]
    public void Elements_that_merely_start_with_address_are_not_addresses()
    {
        Assert.Empty(HookTriage.PciAddresses("<hostdev><addresses bus='0x04' slot='0x00'/></hostdev>", out _));
    }

    [Fact]
    public void A_huge_domain_is_scanned_in_one_pass()
    {
        var many = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"<disk><address type='drive' controller='0' bus='0' target='0' unit='{i}'/></disk>"));
        var xml = "<domain><devices>" + many + GpuXml + "</devices></domain>";
        Assert.Equal(HookTriage.Verdict.Examine, Decide("prepare", "begin", xml));
    }

    [Theory]
    [InlineData(new[] { "d", "release", "end", "destroyed" }, "destroyed")]
    [InlineData(new[] { "d", "release", "end", "-" }, "-")]
    [InlineData(new[] { "d", "prepare", "begin" }, "-")]
    public void Argv_forms_libvirt_uses_parse_including_the_10_5_release_reason(string[] args, string extra)
    {
        Assert.True(HookInvocation.TryParse(args, out var hook, out _));
        Assert.Equal(extra, hook.Extra);
    }

    [Fact]
    public void Too_few_arguments_is_a_usage_error()
    {
        Assert.False(HookInvocation.TryParse(["d", "prepare"], out _, out var error));
        Assert.Contains("usage", error, StringComparison.Ordinal);
    }
}
