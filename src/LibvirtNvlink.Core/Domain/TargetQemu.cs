using System.Globalization;

namespace LibvirtNvlink.Domain;

/// <summary>
/// Which QEMU will run the domain, and how we know: --qemu-version, the hypervisor version libvirt reports
/// (virConnectGetVersion), or libvirt's capability cache for the domain's emulator. Null version: unknown.
/// </summary>
public sealed record TargetQemu((int Major, int Minor)? Version, string Source)
{
    public const string FromOption = "--qemu-version";
    public const string FromLibvirt = "libvirtd via the API";
    public const string FromCache = "libvirt's QEMU capability cache";

    public static TargetQemu Unknown { get; } = new(null, "unknown (pass --qemu-version)");

    /// <summary>QEMU 9.0 added the acpi-generic-initiator object.</summary>
    public static readonly (int Major, int Minor) GenericInitiator = (9, 0);

    /// <summary>QEMU 10.0 added the virt machine's highmem-mmio-size property.</summary>
    public static readonly (int Major, int Minor) HighmemMmioSize = (10, 0);

    /// <summary>
    /// QEMU 9.0.0 to 9.1.1 write the PCI device handle of an SRAT generic-initiator entry with bus and devfn swapped,
    /// so the guest kernel ties the nodes to another (or no) device; upstream 16c687d8 fixed it in 9.2 and 9.1.2.
    /// </summary>
    public static readonly (int Major, int Minor, int Micro) GiDeviceHandleFixed = (9, 1, 2);

    /// <summary>Whether a QEMU writes the swapped device handle: null when only the micro release would tell and it is unknown.</summary>
    public static bool? SwapsGiDeviceHandle((int Major, int Minor) version, int? micro)
    {
        if (version.CompareTo(GenericInitiator) < 0 || version.CompareTo((GiDeviceHandleFixed.Major, GiDeviceHandleFixed.Minor)) > 0) return false;
        if (version.CompareTo((GiDeviceHandleFixed.Major, GiDeviceHandleFixed.Minor)) < 0) return true;
        return micro is { } m ? m < GiDeviceHandleFixed.Micro : null;
    }

    public static string Show((int Major, int Minor, int Micro) v) => string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{v.Micro}");

    public bool IsKnown => Version is not null;

    /// <summary>True when known to be at least <paramref name="needed"/>; unknown counts as yes (the caller warns).</summary>
    public bool AtLeast((int Major, int Minor) needed) => Version is not { } v || v.CompareTo(needed) >= 0;

    public static bool TryParse(string? text, out (int Major, int Minor) version)
    {
        version = default;
        var parts = text?.Trim().Split('.') ?? [];
        if (parts.Length is < 2 or > 3) return false;
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)) return false;
        version = (major, minor);
        return true;
    }

    /// <summary>virConnectGetVersion encodes QEMU as major * 1,000,000 + minor * 1,000 + micro.</summary>
    public static (int Major, int Minor) FromNumber(ulong number) => ((int)(number / 1_000_000), (int)(number / 1000 % 1000));

    public static string Show((int Major, int Minor) v) => string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}");

    public override string ToString() => Version is { } v ? $"{Show(v)} ({Source})" : Source;
}
