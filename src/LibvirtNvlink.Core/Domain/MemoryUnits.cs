using System.Globalization;

namespace LibvirtNvlink.Domain;

/// <summary>libvirt's memory units (virScaleInteger): b/bytes, KB=1000, K/KiB=1024, … up to E/EiB.</summary>
public static class MemoryUnits
{
    /// <summary>Parses a scaled value into KiB exactly as libvirt stores it: bytes divided by 1024, rounded up.</summary>
    public static bool TryToKiB(string? value, string? unit, out ulong kib, out string error)
    {
        kib = 0;
        error = "";
        if (!ulong.TryParse(value?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            error = $"'{value}' is not a non-negative integer";
            return false;
        }
        if (!TryScale(unit, out var scale))
        {
            error = $"unknown memory unit '{unit}'";
            return false;
        }
        try
        {
            var bytes = checked(n * scale);
            kib = bytes / 1024 + (bytes % 1024 == 0 ? 0UL : 1UL);
            return true;
        }
        catch (OverflowException)
        {
            error = $"{value} {unit} overflows";
            return false;
        }
    }

    public static bool TryScale(string? unit, out ulong scale)
    {
        scale = 1024;
        if (string.IsNullOrEmpty(unit)) return true;
        var u = unit.ToLowerInvariant();
        if (u is "b" or "byte" or "bytes")
        {
            scale = 1;
            return true;
        }
        var exponent = u[0] switch { 'k' => 1, 'm' => 2, 'g' => 3, 't' => 4, 'p' => 5, 'e' => 6, _ => 0 };
        if (exponent == 0) return false;
        ulong @base;
        if (u.Length == 1 || u[1..] == "ib") @base = 1024;
        else if (u[1..] == "b") @base = 1000;
        else return false;
        scale = 1;
        for (var i = 0; i < exponent; i++) scale *= @base;
        return true;
    }
}
