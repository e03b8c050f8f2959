using System.Text.Json.Serialization;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// A driver change the hook made, so release can give the device back: the driver it was on (null: none) and what
/// its driver_override held before (null: nothing, which sysfs shows as "(null)").
/// </summary>
public sealed record DriverChange(
    [property: JsonConverter(typeof(PciAddressJsonConverter))] PciAddress Device,
    string? OriginalDriver,
    string? PreviousOverride = null);
