using LibvirtNvlink.Pci;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

/// <summary>Discovery on each bundled host gives exactly the wiring the firmware describes.</summary>
public class DiscoveryTests
{
    private static PciAddress A(string s) => PciAddress.Parse(s);

    [Fact]
    public void The_RFC_host_pairs_each_GPU_with_its_two_bridges_in_its_own_IOMMU_group()
    {
        var t = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);
        var expected = new (string Gpu, string[] Bridges, int Group, ulong Ram, int Node)[]
        {
            ("0004:04:00.0", ["0006:00:00.0", "0006:00:00.1"], 4, 0x040000000000, 255),
            ("0004:05:00.0", ["0006:00:01.0", "0006:00:01.1"], 5, 0x042000000000, 254),
            ("0004:06:00.0", ["0006:00:02.0", "0006:00:02.1"], 6, 0x044000000000, 253),
            ("0035:03:00.0", ["0007:00:00.0", "0007:00:00.1"], 10, 0x240000000000, 252),
            ("0035:04:00.0", ["0007:00:01.0", "0007:00:01.1"], 11, 0x242000000000, 251),
            ("0035:05:00.0", ["0007:00:02.0", "0007:00:02.1"], 12, 0x244000000000, 250),
        };
        Assert.Equal(expected.Select(e => A(e.Gpu)), t.Gpus.Select(g => g.Address));
        foreach (var e in expected)
        {
            var gpu = t.GpuAt(A(e.Gpu))!;
            Assert.True(gpu.IsNvlink2);
            Assert.Equal(e.Bridges.Select(A), gpu.Bridges);
            Assert.Equal(e.Group, gpu.IommuGroup);
            Assert.Equal(e.Ram, gpu.Memory!.Address);
            Assert.Equal(128UL << 30, gpu.Memory.Size);
            Assert.Equal(e.Node, gpu.Memory.NumaNode);
            Assert.False(gpu.Memory.OnlineOnHost);
            Assert.Equal("vfio-pci", gpu.Driver);
            foreach (var b in e.Bridges)
            {
                var bridge = t.BridgeAt(A(b))!;
                Assert.Equal(gpu.Address, bridge.Gpu);
                Assert.Equal(e.Group, bridge.IommuGroup);
                Assert.Equal(8u, bridge.LinkSpeed);
                Assert.True(bridge.LibvirtSeesNv2Bridge);
                Assert.Equal(NpuAddressing.TgtFromHostAddress(e.Ram), bridge.Tgt);
            }
        }
        Assert.Empty(t.Findings);
        Assert.True(t.HasDeviceTree);
    }

    [Fact]
    public void Link_index_and_ATSD_come_from_the_link_node_and_the_NPU_PHB_array()
    {
        var t = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);
        var b = t.BridgeAt(A("0006:00:00.0"))!;
        Assert.Equal(0, b.LinkIndex);
        Assert.Equal(0x6030200800000UL, b.Atsd);
        Assert.Equal(1692156993470464UL, b.Atsd);
        var b5 = t.BridgeAt(A("0007:00:02.1"))!;
        Assert.Equal(5, b5.LinkIndex);
        Assert.Equal(0x6230200800000UL + 5 * 0x10000UL, b5.Atsd);
        Assert.Equal(0xc4000000000UL, b5.Tgt);
        Assert.Equal("GPU5", b5.LocationCode);
    }

    [Fact]
    public void The_4_GPU_host_has_three_links_per_GPU_and_one_compound_group_per_socket()
    {
        var t = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon4GpuCompound);
        Assert.Equal(4, t.Gpus.Count);
        Assert.All(t.Gpus, g => Assert.Equal(3, g.Bridges.Count));
        Assert.Equal([A("0006:00:01.0"), A("0006:00:01.1"), A("0006:00:01.2")], t.GpuAt(A("0004:05:00.0"))!.Bridges);
        Assert.Equal([3, 4, 5], t.GpuAt(A("0004:05:00.0"))!.Bridges.Select(b => t.BridgeAt(b)!.LinkIndex!.Value));
        Assert.Equal(8, t.IommuGroupMembers(7).Count);
        Assert.Equal(8, t.IommuGroupMembers(8).Count);
        var compound = t.Findings.Where(f => f.Code == "compound-iommu-group").ToList();
        Assert.Equal(2, compound.Count);
        Assert.All(compound, f => Assert.Equal(Severity.Warning, f.Severity));
        Assert.False(t.HasErrors);
    }

    [Fact]
    public void Old_firmware_phandles_under_linux_phandle_resolve_the_same_way()
    {
        Assert.True(BuiltInLayouts.Witherspoon4GpuCompound.LegacyPhandles);
        var t = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon4GpuCompound);
        Assert.All(t.Bridges, b => Assert.NotNull(b.Gpu));
        Assert.All(t.Gpus, g => Assert.NotNull(g.Memory));
    }

    [Fact]
    public void An_x86_host_has_no_device_tree_and_a_plain_PCIe_GPU()
    {
        var t = SimulatedHosts.Topology(BuiltInLayouts.X86PcieV100);
        Assert.False(t.HasDeviceTree);
        var gpu = Assert.Single(t.Gpus);
        Assert.Equal(A("0000:3b:00.0"), gpu.Address);
        Assert.False(gpu.IsNvlink2);
        Assert.Empty(t.Bridges);
        var f = Assert.Single(t.Findings);
        Assert.Equal(("plain-pci-gpu", Severity.Info), (f.Code, f.Severity));
    }

    [Fact]
    public void Non_GPU_devices_are_read_with_driver_group_and_numa_node()
    {
        var t = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);
        var nic = t.Devices[A("0001:01:00.1")];
        Assert.Equal((0x14e4, 0x1657, 0x020000, "tg3", (int?)1), (nic.Vendor, nic.Device, nic.Class, nic.Driver, nic.IommuGroup));
        Assert.Equal([A("0001:01:00.0"), A("0001:01:00.1")], t.IommuGroupMembers(1));
        Assert.Equal(8, t.Devices[A("0035:03:00.0")].NumaNode);
        Assert.Null(t.OwningGpu(nic.Address));
        Assert.Equal(A("0035:03:00.0"), t.OwningGpu(A("0007:00:00.1"))!.Address);
    }
}
