using LibvirtNvlink.Hook;
using LibvirtNvlink.HookProtocol;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The hook's first decision: exit at once, or parse the domain and look closer. Its cases live in one table,
/// tests/data/hook-triage-cases.xml, run through this triage and libvirt-nvlink-hook-front by HookTriageCaseTests;
/// what is here is the scan's own properties.
/// </summary>
public class HookTriageTests
{
    private static readonly PciAddress Gpu = PciAddress.Parse("0004:04:00.0");

    private static HookTriage.Verdict Decide(string op, string subOp, string xml, bool undo = false) =>
        HookTriage.Decide(new HookInvocation("d", op, subOp, "-"), xml, a => a == Gpu, _ => undo);

    private const string GpuXml = "<domain><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev></devices></domain>";

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
