using System.Buffers.Binary;

namespace LibvirtNvlink.Vfio;

/// <summary>One capability of a region's info chain: its id, version and payload (after the 8-byte header).</summary>
public sealed record VfioCapability(ushort Id, ushort Version, byte[] Payload);

/// <summary>struct vfio_region_info and its capability chain, parsed from the bytes the kernel returned.</summary>
public sealed record VfioRegionInfo(uint Index, uint Flags, ulong Size, ulong Offset, IReadOnlyList<VfioCapability> Capabilities)
{
    public (uint Type, uint Subtype)? TypeCapability =>
        Capabilities.FirstOrDefault(c => c.Id == VfioConstants.RegionInfoCapType) is { Payload.Length: >= 8 } c
            ? (BinaryPrimitives.ReadUInt32LittleEndian(c.Payload), BinaryPrimitives.ReadUInt32LittleEndian(c.Payload.AsSpan(4)))
            : null;

    public ulong? SsaTgt =>
        Capabilities.FirstOrDefault(c => c.Id == VfioConstants.RegionInfoCapNvlink2Ssatgt) is { Payload.Length: >= 8 } c
            ? BinaryPrimitives.ReadUInt64LittleEndian(c.Payload)
            : null;

    public uint? LinkSpeed =>
        Capabilities.FirstOrDefault(c => c.Id == VfioConstants.RegionInfoCapNvlink2Lnkspd) is { Payload.Length: >= 4 } c
            ? BinaryPrimitives.ReadUInt32LittleEndian(c.Payload)
            : null;

    /// <summary>The kernel's answer as it came, so `snapshot` can record it and a recording parses the same.</summary>
    public byte[] Answer { get; init; } = [];

    /// <summary>
    /// Parses a VFIO_DEVICE_GET_REGION_INFO answer. Native byte order (little-endian on ppc64le and x86).
    /// The chain is walked defensively: offsets must move forward inside the buffer, so a corrupt answer
    /// cannot loop or read out of bounds.
    /// </summary>
    /// <exception cref="FormatException">The buffer is shorter than the struct or the chain points outside it.</exception>
    public static VfioRegionInfo Parse(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < VfioConstants.RegionInfoSize)
        {
            throw new FormatException($"vfio_region_info needs {VfioConstants.RegionInfoSize} bytes, got {buffer.Length}");
        }
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]);
        var capOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(buffer[16..]);
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(buffer[24..]);
        var caps = new List<VfioCapability>();
        if ((flags & VfioConstants.RegionInfoFlagCaps) != 0)
        {
            var at = capOffset;
            var previous = 0u;
            while (at != 0)
            {
                if (at <= previous || at < VfioConstants.RegionInfoSize || at + VfioConstants.CapHeaderSize > buffer.Length)
                {
                    throw new FormatException($"capability chain points to offset {at}, outside the {buffer.Length}-byte answer");
                }
                var id = BinaryPrimitives.ReadUInt16LittleEndian(buffer[(int)at..]);
                var version = BinaryPrimitives.ReadUInt16LittleEndian(buffer[((int)at + 2)..]);
                var next = BinaryPrimitives.ReadUInt32LittleEndian(buffer[((int)at + 4)..]);
                var end = next != 0 && next <= buffer.Length ? (int)next : buffer.Length;
                var payloadStart = (int)at + VfioConstants.CapHeaderSize;
                caps.Add(new VfioCapability(id, version, buffer[payloadStart..Math.Max(payloadStart, end)].ToArray()));
                previous = at;
                at = next;
            }
        }
        return new VfioRegionInfo(index, flags, size, offset, caps) { Answer = buffer.ToArray() };
    }
}

/// <summary>What one VFIO device reported: its region count and the device-specific regions (index ≥ 9).</summary>
public sealed record VfioDeviceRegions(string Device, uint NumRegions, IReadOnlyList<VfioRegionInfo> VendorRegions)
{
    /// <summary>
    /// The sizes of regions BAR0–BAR5 as VFIO hands them to QEMU (the upper half of a 64-bit BAR is 0). For
    /// nvgrace-gpu these are not the physical device's: the variant driver emulates BAR2 (resmem) and BAR4 (usemem)
    /// over the coherent GPU memory, which sysfs <c>resource</c> does not show. Empty when not read.
    /// </summary>
    public IReadOnlyList<ulong> BarSizes { get; init; } = [];

    /// <summary>Regions BAR0–BAR5 with their capability chains, read with <see cref="BarSizes"/>; empty when not read.</summary>
    public IReadOnlyList<VfioRegionInfo> BarRegions { get; init; } = [];
}

/// <summary>What opening a VFIO group told us.</summary>
public sealed record VfioGroupProbe(int Group, bool Viable, IReadOnlyList<VfioDeviceRegions> Devices, string? Problem);

/// <summary>
/// Opens VFIO groups and reads region info. The Linux implementation does the ioctls; tests substitute recorded
/// kernel answers, so the decision logic in <see cref="VfioNv2Checks"/> is tested without a GPU.
/// </summary>
public interface IVfioProbe
{
    /// <param name="withBarSizes">Also read the sizes of BAR0–BAR5 (Grace GPUs; NVLink2 checks need only the
    /// device-specific regions).</param>
    VfioGroupProbe Probe(int group, IReadOnlyList<string> devices, bool withBarSizes = false);
}
