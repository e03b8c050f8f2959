using System.Globalization;
using System.Xml.Linq;

namespace LibvirtNvlink.Domain;

/// <summary>The domain's &lt;qemu:commandline&gt; and QEMU's size syntax, read the same way by every caller.</summary>
public static class QemuCommandLine
{
    public const string NamespaceUri = "http://libvirt.org/schemas/domain/qemu/1.0";
    public static readonly XNamespace Ns = NamespaceUri;

    /// <summary>The values of the domain's &lt;qemu:commandline&gt; args, in order.</summary>
    public static IEnumerable<string> QemuArgs(DomainDefinition d) =>
        d.Root.Element(Ns + "commandline")?.Elements(Ns + "arg").Select(a => (string?)a.Attribute("value") ?? "") ?? [];

    /// <summary>Whether the domain passes QEMU a highmem-mmio-size, and its value in bytes when this can read it.</summary>
    public static (bool Passed, ulong? Bytes) HighmemMmioSize(DomainDefinition d)
    {
        foreach (var arg in QemuArgs(d))
        {
            foreach (var property in arg.Split(','))
            {
                if (property.StartsWith("highmem-mmio-size=", StringComparison.Ordinal)) return (true, ParseQemuSize(property["highmem-mmio-size=".Length..]));
            }
        }
        return (false, null);
    }

    /// <summary>QEMU's size syntax: a number with an optional binary suffix B, K, M, G, T, P or E.</summary>
    public static ulong? ParseQemuSize(string text)
    {
        if (text.Length == 0) return null;
        var shift = char.ToUpperInvariant(text[^1]) switch
        {
            'B' => 0,
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            'P' => 50,
            'E' => 60,
            _ => -1,
        };
        var digits = shift < 0 ? text : text[..^1];
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        var s = Math.Max(shift, 0);
        return s > 0 && n > ulong.MaxValue >> s ? null : n << s;
    }

    /// <summary>A window size the way QEMU's size properties take it: whole tebibytes as "2T", else gibibytes.</summary>
    public static string QemuSize(ulong bytes) =>
        bytes >= 1UL << 40 && bytes % (1UL << 40) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes >> 40}T")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30}G");
}
