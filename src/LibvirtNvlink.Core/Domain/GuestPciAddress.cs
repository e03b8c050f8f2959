using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Domain;

/// <summary>
/// A guest PCI address (<c>&lt;address type='pci' …/&gt;</c>). On pseries, <see cref="Bus"/> is the index of
/// the pci-root controller (the PHB) the device sits on.
/// </summary>
public readonly record struct GuestPciAddress(int Domain, int Bus, int Slot, int Function)
{
    public static XElement ToElement(int bus, int slot) =>
        new("address",
            new XAttribute("type", "pci"),
            new XAttribute("domain", "0x0000"),
            new XAttribute("bus", "0x" + bus.ToString("x2", CultureInfo.InvariantCulture)),
            new XAttribute("slot", "0x" + slot.ToString("x2", CultureInfo.InvariantCulture)),
            new XAttribute("function", "0x0"));

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"bus 0x{Bus:x2} slot 0x{Slot:x2} function {Function}");
}

/// <summary>Reads PCI address elements the way libvirt does: every attribute optional (0), decimal or 0x-hex.</summary>
public static class PciAddressXml
{
    public static bool TryRead(XElement address, out PciAddress result, out string error)
    {
        result = default;
        var v = new int[4];
        string[] names = ["domain", "bus", "slot", "function"];
        for (var i = 0; i < 4; i++)
        {
            var a = address.Attribute(names[i])?.Value;
            if (a is null) continue;
            if (!PciAddress.TryParseXmlNumber(a, out v[i]))
            {
                error = $"{names[i]}='{a}' is not a number";
                return false;
            }
        }
        if (!PciAddress.IsInRange(v[0], v[1], v[2], v[3], out error)) return false;
        result = new PciAddress(v[0], v[1], v[2], v[3]);
        return true;
    }

    public static XElement SourceAddress(PciAddress a) =>
        new("address",
            new XAttribute("domain", "0x" + a.Domain.ToString("x4", CultureInfo.InvariantCulture)),
            new XAttribute("bus", "0x" + a.Bus.ToString("x2", CultureInfo.InvariantCulture)),
            new XAttribute("slot", "0x" + a.Slot.ToString("x2", CultureInfo.InvariantCulture)),
            new XAttribute("function", "0x" + a.Function.ToString("x", CultureInfo.InvariantCulture)));
}
