using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>A guest NUMA node as QEMU is told it: <c>-numa node,nodeid=N[,cpus=…][,memdev=…]</c>.</summary>
public sealed record QemuNumaNode(int Id, string? Cpus, string? Memdev)
{
    public bool IsMemoryless => Memdev is null && Cpus is null;
}

/// <summary>
/// The NUMA topology a QEMU command line gives the guest, read from <c>virsh domxml-to-native qemu-argv</c>: nodes,
/// the distances (<c>-numa dist</c>, one direction standing for both as QEMU reads it), generic initiators by the host
/// PCI address of the device they name, and the virt machine's highmem-mmio-size. The same topology whether libvirt
/// wrote the options (&lt;acpi nodeset&gt;, JSON objects) or we did (&lt;qemu:commandline&gt;, key=value).
/// </summary>
public sealed record QemuTopology(
    IReadOnlyDictionary<int, QemuNumaNode> Nodes,
    IReadOnlyDictionary<(int From, int To), int> Distances,
    IReadOnlyList<(string HostDevice, int Node)> GenericInitiators,
    string? HighmemMmioSize)
{
    /// <summary>Every -device, as its properties (driver included).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Devices { get; init; } = [];

    /// <summary>Every -object, as its properties (qom-type included).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Objects { get; init; } = [];

    /// <summary>The distance QEMU uses between two nodes: as given, else the reverse direction, else none.</summary>
    public int? Distance(int a, int b) =>
        Distances.TryGetValue((a, b), out var d) ? d : Distances.TryGetValue((b, a), out var r) ? r : null;

    /// <param name="hostdevSources">The domain's PCI hostdev sources in document order: with iommufd libvirt passes the
    /// device as an fd and writes no host=, so the id libvirt gives the Nth one (hostdevN) tells which it is.</param>
    public static QemuTopology Parse(string commandLine, IReadOnlyList<string>? hostdevSources = null)
    {
        var devices = new List<IReadOnlyDictionary<string, string>>();
        var objects = new List<IReadOnlyDictionary<string, string>>();
        var argv = ShellWords(commandLine);
        var nodes = new Dictionary<int, QemuNumaNode>();
        var distances = new Dictionary<(int, int), int>();
        var initiators = new List<(string Id, int Node)>();
        var hostOfId = new Dictionary<string, string>();
        string? mmio = null;
        for (var i = 0; i + 1 < argv.Count; i++)
        {
            var value = argv[i + 1];
            switch (argv[i])
            {
                case "-numa":
                    var numa = KeyValues(value, out var kind);
                    if (kind == "node")
                    {
                        var id = Int(numa["nodeid"]);
                        nodes[id] = new QemuNumaNode(id, numa.GetValueOrDefault("cpus"), numa.GetValueOrDefault("memdev"));
                    }
                    else if (kind == "dist")
                    {
                        distances[(Int(numa["src"]), Int(numa["dst"]))] = Int(numa["val"]);
                    }
                    break;
                case "-object":
                    var obj = Properties(value, "qom-type");
                    objects.Add(obj);
                    if (obj.GetValueOrDefault("qom-type") == "acpi-generic-initiator") initiators.Add((obj["pci-dev"], Int(obj["node"])));
                    break;
                case "-device":
                    var dev = Properties(value, "driver");
                    devices.Add(dev);
                    if (dev.TryGetValue("host", out var host) && dev.TryGetValue("id", out var devId)) hostOfId[devId] = host;
                    else if (dev.GetValueOrDefault("driver") == "vfio-pci" && dev.TryGetValue("id", out var fdId) && hostdevSources is not null &&
                             fdId.StartsWith("hostdev", StringComparison.Ordinal) && int.TryParse(fdId["hostdev".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) &&
                             n < hostdevSources.Count)
                    {
                        hostOfId[fdId] = hostdevSources[n];
                    }
                    break;
                case "-machine":
                    if (KeyValues(value, out _).TryGetValue("highmem-mmio-size", out var size)) mmio = size;
                    break;
            }
        }
        return new QemuTopology(nodes, distances,
            [.. initiators.Select(g => (hostOfId.TryGetValue(g.Id, out var h) ? h : "unknown device id " + g.Id, g.Node))], mmio)
        {
            Devices = devices,
            Objects = objects,
        };
    }

    /// <summary>Options in either form QEMU takes: a JSON object, or "type,key=value,…" with the type under <paramref name="typeKey"/>.</summary>
    private static Dictionary<string, string> Properties(string value, string typeKey)
    {
        if (!value.StartsWith('{'))
        {
            var kv = KeyValues(value, out var type);
            if (type is not null) kv[typeKey] = type;
            return kv;
        }
        using var json = JsonDocument.Parse(value);
        return json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText());
    }

    /// <summary>"node,nodeid=2" → {nodeid: 2} with kind "node"; a first element without '=' is the kind.</summary>
    private static Dictionary<string, string> KeyValues(string value, out string? kind)
    {
        kind = null;
        var result = new Dictionary<string, string>();
        var parts = value.Split(',');
        for (var i = 0; i < parts.Length; i++)
        {
            var eq = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 && i == 0) kind = parts[i];
            else if (eq > 0) result[parts[i][..eq]] = parts[i][(eq + 1)..];
            // cpus=0-3,5 continues the previous value after a comma.
            else if (i > 0 && result.Count > 0) result[result.Keys.Last()] += "," + parts[i];
        }
        return result;
    }

    private static int Int(string s) => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The words of a POSIX shell command line as libvirt quotes it (single quotes, backslash-newline between options).</summary>
    public static List<string> ShellWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (ch == '\'')
            {
                var end = text.IndexOf('\'', i + 1);
                if (end < 0) throw new FormatException("unterminated single quote in: " + text[i..]);
                word.Append(text, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (ch == '\\' && i + 1 < text.Length)
            {
                i++;
                if (text[i] != '\n')
                {
                    word.Append(text[i]);
                    inWord = true;
                }
            }
            else if (char.IsWhiteSpace(ch))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(ch);
                inWord = true;
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }
}
