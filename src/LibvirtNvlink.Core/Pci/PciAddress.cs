using System.Globalization;

namespace LibvirtNvlink.Pci;

/// <summary>A PCI function address, printed the way libvirt and sysfs print it (<c>%04x:%02x:%02x.%x</c>).</summary>
public readonly record struct PciAddress(int Domain, int Bus, int Slot, int Function) : IComparable<PciAddress>
{
    public const int MaxDomain = 0xffff;
    public const int MaxBus = 0xff;
    public const int MaxSlot = 0x1f;
    public const int MaxFunction = 0x7;

    public static PciAddress Create(int domain, int bus, int slot, int function)
    {
        if (!IsInRange(domain, bus, slot, function, out var why))
        {
            throw new FormatException(why);
        }
        return new PciAddress(domain, bus, slot, function);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}");

    public int CompareTo(PciAddress other)
    {
        var c = Domain.CompareTo(other.Domain);
        if (c != 0) return c;
        c = Bus.CompareTo(other.Bus);
        if (c != 0) return c;
        c = Slot.CompareTo(other.Slot);
        return c != 0 ? c : Function.CompareTo(other.Function);
    }

    /// <summary>Parses <c>dddd:bb:ss.f</c> (hex, case-insensitive); sysfs never omits the domain, so neither do we.</summary>
    public static bool TryParse(string? text, out PciAddress address, out string error)
    {
        address = default;
        error = $"'{text}' is not a PCI address of the form dddd:bb:ss.f";
        if (string.IsNullOrEmpty(text)) return false;
        var parts = text.Split(':');
        if (parts.Length != 3) return false;
        var slotFn = parts[2].Split('.');
        if (slotFn.Length != 2) return false;
        if (!TryHex(parts[0], 4, out var d) || !TryHex(parts[1], 2, out var b) ||
            !TryHex(slotFn[0], 2, out var s) || !TryHex(slotFn[1], 1, out var f))
        {
            return false;
        }
        if (!IsInRange(d, b, s, f, out error)) return false;
        address = new PciAddress(d, b, s, f);
        error = "";
        return true;
    }

    public static PciAddress Parse(string text) =>
        TryParse(text, out var a, out var error) ? a : throw new FormatException(error);

    /// <summary>
    /// Parses one attribute of libvirt's <c>&lt;address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/&gt;</c>.
    /// libvirt accepts decimal or 0x-prefixed hex (virStrToLong_uip with base 0), so do we.
    /// </summary>
    public static bool TryParseXmlNumber(string? text, out int value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return t.Length > 2 && t.Length <= 10 &&
                   int.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0;
        }
        if (t.Length > 1 && t[0] == '0')
        {
            // Base 0 in strtol means a leading 0 is octal.
            try
            {
                value = Convert.ToInt32(t, 8);
                return value >= 0;
            }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
        }
        return int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    internal static bool IsInRange(int d, int b, int s, int f, out string why)
    {
        why = "";
        if (d is < 0 or > MaxDomain) why = $"PCI domain 0x{d:x} is out of range (0..0xffff)";
        else if (b is < 0 or > MaxBus) why = $"PCI bus 0x{b:x} is out of range (0..0xff)";
        else if (s is < 0 or > MaxSlot) why = $"PCI slot 0x{s:x} is out of range (0..0x1f)";
        else if (f is < 0 or > MaxFunction) why = $"PCI function 0x{f:x} is out of range (0..7)";
        return why.Length == 0;
    }

    private static bool TryHex(string s, int maxDigits, out int value)
    {
        value = 0;
        return s.Length >= 1 && s.Length <= maxDigits &&
               int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
