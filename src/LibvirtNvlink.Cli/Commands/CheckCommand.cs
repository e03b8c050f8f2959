using System.CommandLine;
using System.Text.Json;
using LibvirtNvlink.Cli.Rendering;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

internal static class CheckCommand
{
    public static Command Create()
    {
        var connect = LibvirtSession.ConnectOption();
        var hostRoot = CommonOptions.HostRoot();
        var domain = new Option<string?>("--domain") { Description = "Check this domain" };
        var all = new Option<bool>("--all") { Description = "Check every defined domain" };
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON" };
        var version = DomainInput.LibvirtVersionOption();
        var probeVfio = new Option<bool>("--probe-vfio")
        {
            Description = "Also open the assigned devices' VFIO groups, as the hook does, to read what the drivers expose (a Grace GPU's memory BAR). " +
                          "A guest starting at that moment with one of these groups fails to open it, so not by default",
        };
        var cmd = new Command("check", "The hook's preflight findings for defined domains, without starting anything")
        {
            connect, hostRoot, domain, all, json, version, probeVfio,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(domain) is null == !parse.GetValue(all))
            {
                Console.Error.WriteLine("libvirt-nvlink check: give --domain NAME or --all.");
                return ExitCodes.Usage;
            }
            var root = new HostRoot(parse.GetValue(hostRoot)!);
            using var scope = LibvirtSessionScope.Open(parse.GetValue(connect)!, true, parse.GetValue(hostRoot)!, parse.GetValue(version), LibvirtSession.DefaultBackupDirectory);
            var session = scope.Value;
            var names = parse.GetValue(domain) is { } n ? [n] : session.DefinedDomains().Select(d => d.Name).ToList();
            var results = new List<(string Name, IReadOnlyList<Finding> Findings, bool Nv2)>();
            foreach (var name in names)
            {
                var xml = session.CurrentDefinition(name, null, secure: false);
                if (xml is null)
                {
                    results.Add((name, [new Finding(Severity.Error, "not-defined", name, $"Domain '{name}' is not defined.")], false));
                    continue;
                }
                var d = DomainDefinition.Parse(xml, $"domain '{name}'");
                var ours = Nv2Preflight.Nv2Hostdevs(d, session.Host).Count > 0 ||
                           GraceAssignment.AssignedGraceGpus(d, session.Host).Count > 0;
                var probes = ours && parse.GetValue(probeVfio) ? PreflightFactsReader.ProbeVfio(root, d, session.Host) : [];
                var facts = PreflightFactsReader.Read(root, root.Map(PlatformReader.LibvirtCapabilityCache), d, session.Target, probes, new HashSet<Pci.PciAddress>());
                results.Add((name, ours ? [.. Nv2Preflight.Check(d, session.Host, facts), .. GracePreflight.Check(d, session.Host, facts)] : [], ours));
            }
            if (parse.GetValue(json)) WriteJson(results);
            else WriteText(results);
            return results.Any(r => r.Findings.Any(f => f.Severity == Severity.Error)) ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return cmd;
    }

    private static void WriteText(List<(string Name, IReadOnlyList<Finding> Findings, bool Nv2)> results)
    {
        foreach (var (name, findings, nv2) in results)
        {
            var errors = findings.Count(f => f.Severity == Severity.Error);
            Console.Out.WriteLine(!nv2 && findings.Count == 0 ? $"{name}: no NVLink2 or Grace device of this host assigned; nothing to check"
                : errors == 0 ? $"{name}: ok" : $"{name}: {errors} error(s)");
            foreach (var f in findings.Where(f => f.Severity != Severity.Info))
            {
                Console.Out.WriteLine($"  {Finding.SeverityName(f.Severity),-7} {f.Device}: {f.Message}");
            }
        }
    }

    private static void WriteJson(List<(string Name, IReadOnlyList<Finding> Findings, bool Nv2)> results)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("domains");
            foreach (var (name, findings, nv2) in results)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteBoolean("nvlink2", nv2);
                w.WriteBoolean("ok", findings.All(f => f.Severity != Severity.Error));
                TopologyJson.WriteFindings(w, findings);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}
