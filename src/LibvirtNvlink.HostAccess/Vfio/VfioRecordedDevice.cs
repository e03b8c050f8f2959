namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>One device of a <see cref="VfioRecording"/>.</summary>
public sealed record VfioRecordedDevice(string Device, uint NumRegions, IReadOnlyList<ulong> BarSizes, IReadOnlyList<byte[]> Regions);
