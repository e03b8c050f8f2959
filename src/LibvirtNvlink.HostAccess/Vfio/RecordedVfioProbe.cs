using System.Globalization;
using System.Text.Json;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>
/// The VFIO answers a snapshot recorded (<see cref="VfioRecording"/>), for a host root whose /dev/vfio/N are not
/// devices: the hook's preflight on a snapshot judges them as it judged the live kernel's.
/// </summary>
public sealed class RecordedVfioProbe(HostRoot root) : IVfioProbe
{
    /// <summary>Where in a host root the recordings are: no real host has this directory.</summary>
    public const string RecordingsPath = "/libvirt-nvlink-snapshot/vfio";

    public static string PathOf(int group) => $"{RecordingsPath}/{group.ToString(CultureInfo.InvariantCulture)}.json";

    public bool HasRecording(int group) => root.Exists(PathOf(group));

    public VfioGroupProbe Probe(int group, IReadOnlyList<string> devices, bool withBarSizes = false)
    {
        try
        {
            var bytes = root.ReadBytes(PathOf(group));
            var recording = bytes is null ? null : JsonSerializer.Deserialize(bytes, VfioRecordingJsonContext.Default.VfioRecording);
            return recording?.ToProbe(devices, withBarSizes) ?? new VfioGroupProbe(group, true, [], $"no recorded VFIO answers for group {group}");
        }
        catch (Exception e) when (e is IOException or JsonException or FormatException)
        {
            return new VfioGroupProbe(group, true, [], $"{root.Map(PathOf(group))}: {e.Message}");
        }
    }
}
