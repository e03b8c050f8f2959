using LibvirtNvlink.DeviceTree;

namespace LibvirtNvlink.Tests;

public class DtDecodeTests
{
    [Fact]
    public void Cells_are_big_endian()
    {
        Assert.Equal([0x01020304u, 0xffu], DtDecode.U32Cells([1, 2, 3, 4, 0, 0, 0, 0xff], "/n/p"));
        Assert.Equal(0x0000040000000000UL, DtDecode.U64([0, 0, 4, 0, 0, 0, 0, 0], "/n/p"));
    }

    [Fact]
    public void A_u64_array_is_pairs_of_cells()
    {
        var bytes = DtDecode.EncodeU64(0x6030200800000, 0x6030200810000);
        Assert.Equal([0x6030200800000UL, 0x6030200810000UL], DtDecode.U64Array(bytes, "/n/ibm,mmio-atsd"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void A_truncated_cell_property_names_its_path(int length)
    {
        var e = Assert.Throws<DeviceTreeFormatException>(() => DtDecode.U32Cells(new byte[length], "/pciex@1/bridge@0/ibm,npu"));
        Assert.Equal("/pciex@1/bridge@0/ibm,npu", e.PropertyPath);
        Assert.Contains("multiple of 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_u64_must_be_exactly_two_cells()
    {
        var e = Assert.Throws<DeviceTreeFormatException>(() => DtDecode.U64(new byte[6], "/b/ibm,device-tgt-addr"));
        Assert.Contains("found 6 bytes", e.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceTreeFormatException>(() => DtDecode.U64Array(new byte[12], "/b/reg"));
    }

    [Fact]
    public void Strings_and_string_lists_are_nul_terminated()
    {
        Assert.Equal("GPU0", DtDecode.String(DtDecode.EncodeStrings("GPU0"), "/n/ibm,loc-code"));
        Assert.Equal(["ibm,witherspoon", "ibm,powernv"], DtDecode.StringList(DtDecode.EncodeStrings("ibm,witherspoon", "ibm,powernv"), "/compatible"));
        Assert.Throws<DeviceTreeFormatException>(() => DtDecode.String("GPU0"u8.ToArray(), "/n/ibm,loc-code"));
        Assert.Throws<DeviceTreeFormatException>(() => DtDecode.String(DtDecode.EncodeStrings("a", "b"), "/n/x"));
    }

    [Fact]
    public void Phandle_lists_reject_the_reserved_values()
    {
        Assert.Equal([7u, 9u], DtDecode.PhandleList(DtDecode.EncodeU32(7, 9), "/gpu/ibm,npu"));
        Assert.Throws<DeviceTreeFormatException>(() => DtDecode.PhandleList(DtDecode.EncodeU32(7, 0), "/gpu/ibm,npu"));
        Assert.Throws<DeviceTreeFormatException>(() => DtDecode.Phandle(DtDecode.EncodeU32(0xffffffff), "/b/ibm,gpu"));
    }
}
