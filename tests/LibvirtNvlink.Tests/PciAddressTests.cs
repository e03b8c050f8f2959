using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Tests;

public class PciAddressTests
{
    [Theory]
    [InlineData("0004:04:00.0", 4, 4, 0, 0)]
    [InlineData("0035:05:1F.7", 0x35, 5, 0x1f, 7)]
    [InlineData("ffff:ff:00.1", 0xffff, 0xff, 0, 1)]
    public void Parses_sysfs_addresses(string text, int d, int b, int s, int f)
    {
        Assert.Equal(new PciAddress(d, b, s, f), PciAddress.Parse(text));
    }

    [Fact]
    public void Prints_like_libvirt_lowercase_and_zero_padded()
    {
        Assert.Equal("0035:05:1f.7", new PciAddress(0x35, 5, 0x1f, 7).ToString());
    }

    [Theory]
    [InlineData("0004:04:20.0", "slot")]
    [InlineData("0004:04:00.8", "function")]
    [InlineData("04:00.0", "dddd:bb:ss.f")]
    [InlineData("10000:00:00.0", "dddd:bb:ss.f")]
    [InlineData("0004:04:00", "dddd:bb:ss.f")]
    [InlineData("", "dddd:bb:ss.f")]
    public void Rejects_malformed_or_out_of_range_addresses_with_a_reason(string text, string reasonPart)
    {
        Assert.False(PciAddress.TryParse(text, out _, out var error));
        Assert.Contains(reasonPart, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0x0004", 4)]
    [InlineData("0X1f", 31)]
    [InlineData("12", 12)]
    [InlineData("010", 8)]
    [InlineData("0", 0)]
    public void Parses_libvirt_xml_numbers_in_any_base_libvirt_accepts(string text, int expected)
    {
        Assert.True(PciAddress.TryParseXmlNumber(text, out var v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("0x")]
    [InlineData("-1")]
    [InlineData("09")]
    [InlineData("zz")]
    public void Rejects_libvirt_xml_numbers_that_libvirt_would_reject(string text)
    {
        Assert.False(PciAddress.TryParseXmlNumber(text, out _));
    }
}
