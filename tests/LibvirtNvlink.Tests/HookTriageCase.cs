using System.Text;
using System.Xml.Linq;

namespace LibvirtNvlink.Tests;

/// <summary>
/// One case of tests/data/hook-triage-cases.xml: libvirtd's arguments and stdin, the host's PCI devices and the
/// hook's undo records, and the decision expected of both the .NET hook's triage and libvirt-nvlink-hook-front.
/// </summary>
public sealed record HookTriageCase(string Name, IReadOnlyList<string> Args, byte[] Stdin, bool Examine, XElement Host, XElement Case)
{
    public static string TablePath => Path.Combine(CliRunner.RepoRoot, "tests", "data", "hook-triage-cases.xml");

    private static readonly Lazy<IReadOnlyList<HookTriageCase>> Table = new(Load);

    public static IReadOnlyList<HookTriageCase> All => Table.Value;

    public static TheoryData<string> Names() => [.. All.Select(c => c.Name)];

    public static HookTriageCase Named(string name) => All.Single(c => c.Name == name);

    private static List<HookTriageCase> Load()
    {
        var root = XDocument.Load(TablePath).Root!;
        var hosts = root.Elements("host").ToDictionary(h => (string)h.Attribute("id")!);
        return [.. root.Elements("case").Select(c =>
        {
            var xml = c.Element("xml")!;
            var stdin = (string?)xml.Attribute("encoding") == "base64" ? Convert.FromBase64String(xml.Value) : Encoding.UTF8.GetBytes(xml.Value);
            var expect = (string)c.Attribute("expect")!;
            if (expect is not ("done" or "examine")) throw new FormatException($"case {c.Attribute("name")}: expect='{expect}'");
            return new HookTriageCase((string)c.Attribute("name")!,
                [(string)c.Attribute("domain")!, .. ((string)c.Attribute("event")!).Split(' ')],
                stdin, expect == "examine", hosts[(string?)c.Attribute("host") ?? "ac922"], c);
        })];
    }

    /// <summary>Writes the case's host (sysfs vendor and device files) and state directory under a fresh directory.</summary>
    public (string HostRoot, string StateDirectory) Lay(string dir)
    {
        var hostRoot = Path.Combine(dir, "host");
        var state = Path.Combine(dir, "state");
        Directory.CreateDirectory(state);
        foreach (var device in Host.Elements("device").Concat(Case.Elements("device")))
        {
            var at = Path.Combine(hostRoot, "sys/bus/pci/devices", (string)device.Attribute("address")!);
            Directory.CreateDirectory(at);
            foreach (var file in (string[])["vendor", "device"]) WriteDeviceFile(device, file, Path.Combine(at, file));
        }
        foreach (var record in Case.Elements("undo-record"))
        {
            var path = HostAccess.DriverBinder.RecordPathFor(state, (string)record.Attribute("domain")!);
            switch ((string?)record.Attribute("kind"))
            {
                case "directory": Directory.CreateDirectory(path); break;
                case "dangling": File.CreateSymbolicLink(path, Path.Combine(dir, "no-such-record")); break;
                default: File.WriteAllText(path, "{}"); break;
            }
        }
        return (hostRoot, state);
    }

    private static void WriteDeviceFile(XElement device, string name, string path)
    {
        switch ((string?)device.Attribute(name + "-kind"))
        {
            case "absent": return;
            case "directory": Directory.CreateDirectory(path); return;
            case "big": File.WriteAllText(path, new string('0', 70_000)); return;
            case "fifo":
                var r = ProcessRunner.Run("mkfifo", [path]);
                if (r.ExitCode != 0) throw new InvalidOperationException("mkfifo failed: " + r.Stderr);
                return;
            case null:
                File.WriteAllText(path, (string)device.Attribute(name)! + ((string?)device.Attribute(name + "-newline") == "no" ? "" : "\n"));
                return;
            case var other: throw new FormatException($"device file kind '{other}'");
        }
    }
}
