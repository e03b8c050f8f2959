using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

internal static class ExplainCommand
{
    public static Command Create()
    {
        var file = DomainInput.File();
        var hostRoot = CommonOptions.HostRoot();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var version = DomainInput.LibvirtVersionOption();
        var cmd = new Command("explain", "Show the locked-memory limit libvirt will set for a domain, and its derivation")
        {
            file, hostRoot, json, version,
        };
        cmd.SetAction(parse =>
        {
            var xml = DomainInput.Read(parse.GetValue(file)!);
            var domain = DomainDefinition.Parse(xml);
            var host = DomainInput.Host(parse.GetValue(hostRoot)!);
            var target = DomainInput.Target(parse.GetValue(version));
            var result = MemlockCalculator.Calculate(domain, new TopologyPciFacts(host), target.Version);
            result = result with { Notes = [.. result.Notes, .. IncompleteGpuNotes(domain, host), .. GraceMemlockNotes.For(domain, host, result)] };
            if (parse.GetValue(json)) WriteJson(domain, result, target);
            else WriteText(domain, result, target);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>The under-computation an operator most needs to hear about: a GPU whose bridges are not assigned.</summary>
    private static IEnumerable<string> IncompleteGpuNotes(DomainDefinition d, Topology.HostTopology host)
    {
        var sources = d.PciHostdevs().Select(h => h.Source).ToHashSet();
        foreach (var gpu in host.Gpus.Where(g => g.IsNvlink2 && sources.Contains(g.Address)))
        {
            var missing = gpu.Bridges.Where(b => !sources.Contains(b)).ToList();
            if (missing.Count > 0)
            {
                yield return $"GPU {gpu.Address} is assigned without its NVLink2 bridge(s) {string.Join(", ", missing)}: the guest gets no GPU RAM " +
                             "and libvirt does not apply the NVLink2 formula. Run 'libvirt-nvlink transform' to complete the domain.";
            }
        }
    }

    private static void WriteJson(DomainDefinition d, MemlockResult r, TargetLibvirt target)
    {
        using var stdout = Console.OpenStandardOutput();
        // Relaxed escaping keeps the formulas readable ('<memory>', '+'); this is not HTML.
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("domain", d.Name);
            w.WriteNumber("memlockBytes", r.Bytes);
            w.WriteString("rule", r.Rule);
            w.WriteNumber("phbCount", r.PhbCount);
            w.WriteBoolean("unlimited", r.Unlimited);
            w.WriteString("libvirtVersion", target.Version.ToString());
            w.WriteString("libvirtVersionSource", target.Source);
            w.WriteStartObject("terms");
            foreach (var t in r.Terms) w.WriteNumber(t.Name, t.Value);
            w.WriteEndObject();
            w.WriteStartObject("formulas");
            foreach (var t in r.Terms) w.WriteString(t.Name, t.Formula);
            w.WriteEndObject();
            w.WriteStartArray("notes");
            foreach (var n in r.Notes) w.WriteStringValue(n);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    private static void WriteText(DomainDefinition d, MemlockResult r, TargetLibvirt target)
    {
        var inv = CultureInfo.InvariantCulture;
        var o = Console.Out;
        o.WriteLine($"domain '{d.Name}', libvirt {target.Version} ({target.Source})");
        var limit = r.Unlimited ? "unlimited" : r.Bytes == 0 ? "none (libvirt leaves the process limit alone)" : string.Create(inv, $"{r.Bytes} bytes ({r.Bytes / (double)(1UL << 30):0.##} GiB)");
        o.WriteLine($"locked-memory limit: {limit}   rule: {r.Rule}");
        foreach (var t in r.Terms)
        {
            o.WriteLine(string.Create(inv, $"  {t.Name,-16} {t.Value,20}   {t.Formula}"));
        }
        foreach (var n in r.Notes) o.WriteLine($"  note: {n}");
    }
}
