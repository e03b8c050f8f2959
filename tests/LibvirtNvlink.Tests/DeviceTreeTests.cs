using LibvirtNvlink.DeviceTree;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

public class DeviceTreeTests
{
    private static string TreeWith(params (string Node, string Prop, byte[] Value)[] props)
    {
        var root = TestRunTemp.NewDirectory("dt-");
        foreach (var (node, prop, value) in props)
        {
            var dir = Path.Combine(root, "sys/firmware/devicetree/base" + node);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, prop), value);
        }
        return root;
    }

    [Theory]
    [InlineData("phandle")]
    [InlineData("linux,phandle")]
    [InlineData("ibm,phandle")]
    public void Every_node_is_indexed_by_whichever_phandle_property_it_has(string name)
    {
        var root = TreeWith(("/a/b@1", name, DtDecode.EncodeU32(42)), ("/c", "phandle", DtDecode.EncodeU32(7)));
        var dt = new SysfsDeviceTree(new HostRoot(root));
        Assert.Equal("/a/b@1", dt.ResolvePhandle(42));
        Assert.Equal("/c", dt.ResolvePhandle(7));
        Assert.Null(dt.ResolvePhandle(8));
    }

    [Fact]
    public void NVLink2_targets_resolve_from_where_skiboot_puts_them_and_anything_else_from_a_full_walk()
    {
        var root = TreeWith(
            ("/pciex@1/pci@0/gpu@0", "phandle", DtDecode.EncodeU32(1)),
            ("/xscom@2/npu@3/link@4", "phandle", DtDecode.EncodeU32(2)),
            ("/memory@5", "phandle", DtDecode.EncodeU32(3)),
            ("/cpus/cpu@6", "phandle", DtDecode.EncodeU32(4)),
            ("/xscom@2/core@7/unit@8", "phandle", DtDecode.EncodeU32(5)));
        var dt = new SysfsDeviceTree(new HostRoot(root), ["/pciex@1/pci@0/gpu@0"]);
        Assert.Equal("/pciex@1/pci@0/gpu@0", dt.ResolvePhandle(1));
        Assert.Equal("/xscom@2/npu@3/link@4", dt.ResolvePhandle(2));
        Assert.Equal("/memory@5", dt.ResolvePhandle(3));
        Assert.Equal("/cpus/cpu@6", dt.ResolvePhandle(4));
        Assert.Equal("/xscom@2/core@7/unit@8", dt.ResolvePhandle(5));
        Assert.Null(dt.ResolvePhandle(6));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(20000)]
    public void A_property_is_read_whole_whatever_its_size_against_the_page(int size)
    {
        var value = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
        var dt = new SysfsDeviceTree(new HostRoot(TreeWith(("/n", "big", value))));
        Assert.Equal(value, dt.ReadProperty("/n", "big"));
    }

    [Fact]
    public void phandle_wins_over_linux_phandle_when_a_node_has_both()
    {
        var root = TreeWith(("/n", "phandle", DtDecode.EncodeU32(1)), ("/n", "linux,phandle", DtDecode.EncodeU32(2)));
        var dt = new SysfsDeviceTree(new HostRoot(root));
        Assert.Equal("/n", dt.ResolvePhandle(1));
        Assert.Null(dt.ResolvePhandle(2));
    }

    [Fact]
    public void A_symlinked_node_directory_is_not_followed_so_the_index_cannot_loop()
    {
        var root = TreeWith(("/n", "phandle", DtDecode.EncodeU32(1)));
        Directory.CreateSymbolicLink(Path.Combine(root, "sys/firmware/devicetree/base/n/loop"), "..");
        var dt = new SysfsDeviceTree(new HostRoot(root));
        Assert.Equal("/n", dt.ResolvePhandle(1));
    }

    [Fact]
    public void Missing_properties_read_as_null_and_existence_follows_libvirt()
    {
        var root = TreeWith(("/n", "ibm,gpu", DtDecode.EncodeU32(1)));
        var dt = new SysfsDeviceTree(new HostRoot(root));
        Assert.Null(dt.ReadProperty("/n", "memory-region"));
        Assert.Null(dt.ReadProperty("/nope", "x"));
        Assert.True(dt.HasProperty("/n", "ibm,gpu"));
        Assert.False(dt.HasProperty("/n", "ibm,nvlink"));
    }

    [Theory]
    [InlineData(0x0000040000000000UL, 0x0000040000000000UL)]
    [InlineData(0x0000240000000000UL, 0x00000c0000000000UL)]
    [InlineData(0x0000244000000000UL, 0x00000c4000000000UL)]
    [InlineData(0x0006000000000000UL, 0x0000600000000000UL)]
    [InlineData(0x000003e000000000UL, 0x000003e000000000UL)]
    public void Tgt_is_skiboots_coral_compression_of_the_RAM_address(ulong address, ulong tgt)
    {
        Assert.Equal(tgt, NpuAddressing.TgtFromHostAddress(address));
    }
}
