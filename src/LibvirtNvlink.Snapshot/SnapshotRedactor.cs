using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// --redact: replaces serial numbers, UUIDs and location codes with stable placeholders — the same value gets the
/// same placeholder everywhere in the snapshot, numbered in path order, so the wiring still reads the same.
/// </summary>
/// <remarks>
/// In what a snapshot holds, these carry them: on an AC922, the device-tree properties <c>ibm,loc-code</c> of the
/// GPU and NPU-bridge nodes (IBM location codes such as <c>U78D2.001.WZS0ABC-P1-C7</c> embed the system's serial
/// number), and <c>ibm,slot-location-code</c>, <c>system-id</c>, <c>serial-number</c> wherever a node read has
/// them; on a Grace host (ACPI, no device tree) nothing read carries a serial or a location code. On both, any
/// UUID in a text file read (libvirt's capability cache, for one) is replaced too.
/// </remarks>
public static partial class SnapshotRedactor
{
    private static readonly string DeviceTree = SysfsDeviceTree.BasePath[1..] + "/";

    /// <summary>Device-tree properties whose whole value identifies the machine, and the placeholder's stem.</summary>
    private static readonly Dictionary<string, string> IdentifyingProperties = new(StringComparer.Ordinal)
    {
        ["ibm,loc-code"] = "LOCATION",
        ["ibm,slot-location-code"] = "LOCATION",
        ["system-id"] = "SERIAL",
        ["serial-number"] = "SERIAL",
    };

    public static void Redact(HostTree tree)
    {
        var placeholders = new Dictionary<string, string>(StringComparer.Ordinal);
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        string Placeholder(string stem, string value)
        {
            if (!placeholders.TryGetValue(value, out var p))
            {
                var n = counters[stem] = counters.GetValueOrDefault(stem) + 1;
                p = stem == "UUID"
                    ? string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{n:x12}")
                    : string.Create(CultureInfo.InvariantCulture, $"REDACTED-{stem}-{n}");
                placeholders[value] = p;
            }
            return p;
        }

        foreach (var (path, node) in tree.Nodes.ToList())
        {
            if (node is not { Type: ManifestEntryType.File, Content: { } content }) continue;
            byte[]? redacted = null;
            if (path.StartsWith(DeviceTree, StringComparison.Ordinal) &&
                IdentifyingProperties.TryGetValue(path[(path.LastIndexOf('/') + 1)..], out var stem))
            {
                // A device-tree string list: NUL-terminated strings, each replaced on its own.
                var strings = Encoding.UTF8.GetString(content).TrimEnd('\0').Split('\0');
                redacted = Encoding.UTF8.GetBytes(string.Concat(strings.Select(s => Placeholder(stem, s) + "\0")));
            }
            else if (IsText(content))
            {
                var text = Encoding.UTF8.GetString(content);
                var replaced = Uuid().Replace(text, m => Placeholder("UUID", m.Value.ToLowerInvariant()));
                if (replaced != text) redacted = Encoding.UTF8.GetBytes(replaced);
            }
            if (redacted is not null && !redacted.AsSpan().SequenceEqual(content))
            {
                tree.Set(path, node with { Content = redacted, Redacted = true });
            }
        }
    }

    private static bool IsText(byte[] content) => !content.AsSpan().Contains((byte)0);

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid();
}
