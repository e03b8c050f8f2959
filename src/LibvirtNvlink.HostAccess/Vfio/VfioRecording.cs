using System.Text.Json.Serialization;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>
/// What probing one VFIO group answered, kept in a host root by `libvirt-nvlink snapshot`: the group's viability,
/// and per device the region count, the BAR sizes and each device-specific region's VFIO_DEVICE_GET_REGION_INFO
/// answer byte for byte (base64) — the form the VFIO tests record kernel answers in, parsed by the same
/// <see cref="VfioRegionInfo.Parse"/> when loaded.
/// </summary>
public sealed record VfioRecording(int Group, bool Viable, string? Problem, IReadOnlyList<VfioRecordedDevice> Devices)
{
    public static VfioRecording Of(VfioGroupProbe probe) => new(probe.Group, probe.Viable, probe.Problem,
        [.. probe.Devices.Select(d => new VfioRecordedDevice(d.Device, d.NumRegions, d.BarSizes, [.. d.VendorRegions.Select(r => r.Answer)]))]);

    /// <exception cref="FormatException">A recorded answer is not a region info.</exception>
    public VfioGroupProbe ToProbe(IReadOnlyList<string> devices, bool withBarSizes)
    {
        var wanted = Devices.Where(d => devices.Contains(d.Device)).ToList();
        var missing = devices.Where(d => Devices.All(r => r.Device != d)).ToList();
        var problem = Problem ?? (missing.Count > 0 ? $"the snapshot recorded no VFIO answers for {string.Join(", ", missing)}" : null);
        return new VfioGroupProbe(Group, Viable, [.. wanted.Select(d => new VfioDeviceRegions(d.Device, d.NumRegions, [.. d.Regions.Select(a => VfioRegionInfo.Parse(a))])
        {
            BarSizes = withBarSizes ? d.BarSizes : [],
        })], problem);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(VfioRecording))]
public sealed partial class VfioRecordingJsonContext : JsonSerializerContext;
