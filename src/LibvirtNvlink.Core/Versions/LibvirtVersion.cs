using System.Globalization;

namespace LibvirtNvlink.Versions;

/// <summary>A libvirt release, comparable; libvirt encodes it as major * 1,000,000 + minor * 1,000 + micro.</summary>
public readonly record struct LibvirtVersion(int Major, int Minor, int Micro) : IComparable<LibvirtVersion>
{
    /// <summary>The default when nothing else says which libvirt will run the domain.</summary>
    public static readonly LibvirtVersion Assumed = new(9, 0, 0);

    public static LibvirtVersion FromNumber(ulong number) =>
        new((int)(number / 1_000_000), (int)(number / 1000 % 1000), (int)(number % 1000));

    public static bool TryParse(string? text, out LibvirtVersion version)
    {
        version = default;
        var parts = text?.Trim().Split('.') ?? [];
        if (parts.Length is < 1 or > 3) return false;
        var n = new int[3];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out n[i]) || n[i] > 999) return false;
        }
        version = new LibvirtVersion(n[0], n[1], n[2]);
        return true;
    }

    public int CompareTo(LibvirtVersion other)
    {
        var c = Major.CompareTo(other.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(other.Minor);
        return c != 0 ? c : Micro.CompareTo(other.Micro);
    }

    public static bool operator <(LibvirtVersion a, LibvirtVersion b) => a.CompareTo(b) < 0;

    public static bool operator >(LibvirtVersion a, LibvirtVersion b) => a.CompareTo(b) > 0;

    public static bool operator <=(LibvirtVersion a, LibvirtVersion b) => a.CompareTo(b) <= 0;

    public static bool operator >=(LibvirtVersion a, LibvirtVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Micro}");
}
