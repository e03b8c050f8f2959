using System.Globalization;

namespace LibvirtNvlink.Versions;

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

    /// <summary>Whether a QEMU writes the swapped device handle: null when only the micro release would tell and it is unknown.</summary>
    public static bool? SwapsGiDeviceHandle((int Major, int Minor) version, int? micro)
    {
        var fixedIn = VersionThresholds.QemuGiDeviceHandleFixed;
        if (version.CompareTo(VersionThresholds.QemuGenericInitiator) < 0 || version.CompareTo((fixedIn.Major, fixedIn.Minor)) > 0) return false;
        if (version.CompareTo((fixedIn.Major, fixedIn.Minor)) < 0) return true;
        return micro is { } m ? m < fixedIn.Micro : null;
    }

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

    public static string Show((int Major, int Minor, int Micro) v) => string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{v.Micro}");

    public override string ToString() => Version is { } v ? $"{Show(v)} ({Source})" : Source;
}
