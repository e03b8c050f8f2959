using System.Buffers.Binary;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The VFIO decision logic against answers recorded the way the kernel builds them: Linux 5.0–5.12
/// (vfio_pci_nvlink2.c: a tenth region with type, SSATGT and LNKSPD capabilities) and 5.13+ (nine regions).
/// </summary>
public class VfioTests
{
    private static HostTopology Host => SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);

    /// <summary>A VFIO_DEVICE_GET_REGION_INFO answer: struct vfio_region_info followed by the capability chain.</summary>
    internal static byte[] RegionAnswer(uint index, uint flags, ulong size, params (ushort Id, byte[] Payload)[] caps)
    {
        var length = 32 + caps.Sum(c => 8 + c.Payload.Length);
        var b = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), flags | (caps.Length > 0 ? VfioConstants.RegionInfoFlagCaps : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), index);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), caps.Length > 0 ? 32u : 0u);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), size);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), (ulong)index << 40);
        var at = 32;
        for (var i = 0; i < caps.Length; i++)
        {
            var next = i + 1 < caps.Length ? at + 8 + caps[i].Payload.Length : 0;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), caps[i].Id);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at + 2), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at + 4), (uint)next);
            caps[i].Payload.CopyTo(b, at + 8);
            at += 8 + caps[i].Payload.Length;
        }
        return b;
    }

    internal static (ushort, byte[]) TypeCap(uint type, uint subtype)
    {
        var p = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(p, type);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), subtype);
        return (VfioConstants.RegionInfoCapType, p);
    }

    internal static (ushort, byte[]) Tgt(ulong tgt)
    {
        var p = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(p, tgt);
        return (VfioConstants.RegionInfoCapNvlink2Ssatgt, p);
    }

    internal static (ushort, byte[]) Speed(uint speed)
    {
        var p = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(p, speed);
        return (VfioConstants.RegionInfoCapNvlink2Lnkspd, p);
    }

    internal const uint Rwm = VfioConstants.RegionInfoFlagRead | VfioConstants.RegionInfoFlagWrite | VfioConstants.RegionInfoFlagMmap;

    /// <summary>What a 5.0–5.12 kernel answers for GPU 0004:04:00.0 and its bridges on the 6-GPU host.</summary>
    private static VfioGroupProbe Kernel512(ulong gpuTgt = 0x40000000000, uint speed = 8, ulong bridgeTgt = 0x40000000000) => new(4, true,
    [
        new("0004:04:00.0", 10, [VfioRegionInfo.Parse(RegionAnswer(9, Rwm, 128UL << 30, TypeCap(0x800010de, 1), Tgt(gpuTgt)))]),
        new("0006:00:00.0", 10, [VfioRegionInfo.Parse(RegionAnswer(9, Rwm, 0x10000, TypeCap(0x80001014, 1), Tgt(bridgeTgt), Speed(speed)))]),
        new("0006:00:00.1", 10, [VfioRegionInfo.Parse(RegionAnswer(9, Rwm, 0x10000, TypeCap(0x80001014, 1), Tgt(0x40000000000), Speed(8)))]),
    ], null);

    [Fact]
    public void Parsing_reads_the_region_and_walks_the_capability_chain()
    {
        var r = VfioRegionInfo.Parse(RegionAnswer(9, Rwm, 128UL << 30, TypeCap(0x800010de, 1), Tgt(0x40000000000)));
        Assert.Equal((9u, 128UL << 30, 9UL << 40), (r.Index, r.Size, r.Offset));
        Assert.Equal((0x800010deu, 1u), r.TypeCapability);
        Assert.Equal(0x40000000000UL, r.SsaTgt);
        Assert.Null(r.LinkSpeed);
    }

    [Fact]
    public void A_chain_pointing_backwards_or_outside_the_answer_is_rejected_not_looped()
    {
        var b = RegionAnswer(9, Rwm, 1, TypeCap(1, 1), Tgt(1));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(32 + 4), 32);
        Assert.Throws<FormatException>(() => VfioRegionInfo.Parse(b));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(32 + 4), 4096);
        Assert.Throws<FormatException>(() => VfioRegionInfo.Parse(b));
        Assert.Throws<FormatException>(() => VfioRegionInfo.Parse(new byte[16]));
    }

    [Fact]
    public void A_5_12_kernel_that_matches_the_device_tree_passes()
    {
        Assert.Empty(VfioNv2Checks.Check("d", Kernel512(), Host));
    }

    [Fact]
    public void A_GPU_tgt_that_differs_from_the_device_tree_is_an_error()
    {
        var f = Assert.Single(VfioNv2Checks.Check("d", Kernel512(gpuTgt: 0x42000000000), Host));
        Assert.Equal(("vfio-tgt-mismatch", "0004:04:00.0"), (f.Code, f.Device));
        Assert.Contains("0x42000000000", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bridge_link_speed_or_tgt_that_differs_is_an_error()
    {
        var findings = VfioNv2Checks.Check("d", Kernel512(speed: 9, bridgeTgt: 1), Host).ToList();
        Assert.Contains(findings, f => f.Code == "vfio-link-speed-mismatch" && f.Device == "0006:00:00.0");
        Assert.Contains(findings, f => f.Code == "vfio-tgt-mismatch" && f.Device == "0006:00:00.0");
    }

    [Fact]
    public void A_5_13_kernel_exposes_nine_regions_and_the_finding_says_the_driver_is_gone()
    {
        var probe = new VfioGroupProbe(4, true, [new("0004:04:00.0", 9, []), new("0006:00:00.0", 9, [])], null);
        var findings = VfioNv2Checks.Check("d", probe, Host).ToList();
        Assert.Contains(findings, f => f.Code == "vfio-no-gpu-ram-region" && f.Message.Contains("Linux 5.13 removed vfio_pci_nvlink2", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Code == "vfio-no-atsd-region" && f.Message.Contains("5.13", StringComparison.Ordinal));
    }

    [Fact]
    public void An_empty_ATSD_region_is_a_warning()
    {
        var probe = new VfioGroupProbe(4, true,
            [new("0006:00:00.0", 10, [VfioRegionInfo.Parse(RegionAnswer(9, Rwm, 0, TypeCap(0x80001014, 1), Tgt(0x40000000000), Speed(8)))])], null);
        var f = Assert.Single(VfioNv2Checks.Check("d", probe, Host));
        Assert.Equal((Severity.Warning, "vfio-atsd-empty"), (f.Severity, f.Code));
    }

    [Fact]
    public void A_group_that_is_not_viable_or_busy_is_an_error_naming_the_group()
    {
        Assert.Equal("vfio-group-not-viable", Assert.Single(VfioNv2Checks.Check("d", new VfioGroupProbe(4, false, [], null), Host)).Code);
        var busy = Assert.Single(VfioNv2Checks.Check("d", new VfioGroupProbe(4, true, [], "/dev/vfio/4 is busy"), Host));
        Assert.Contains("group 4", busy.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VfioConstants.Request.GroupGetStatus, false, 0x3B67u)]
    [InlineData(VfioConstants.Request.GroupGetStatus, true, 0x20003B67u)]
    [InlineData(VfioConstants.Request.GetApiVersion, false, 0x3B64u)]
    [InlineData(VfioConstants.Request.DeviceGetRegionInfo, true, 0x20003B6Cu)]
    public void Ioctl_numbers_follow_IO_on_each_architecture(VfioConstants.Request r, bool ppc, uint expected)
    {
        Assert.Equal(expected, VfioConstants.Ioctl(r, ppc));
    }
}
