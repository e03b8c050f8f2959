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
            result = result with { Notes = [.. result.Notes, .. IncompleteGpuNotes(domain, host)] };
            // Grace guests lock more than libvirt's rule knows of (iommufd-charged BARs) or less (one IOAS for N devices).
            var grace = GraceAssignment.AssignedGraceGpus(domain, host).Count > 0
                ? GraceMemlock.Compute(domain, host, target.Version, host.KernelRelease)
                : null;
            if (parse.GetValue(json)) WriteJson(domain, result, target, grace);
            else WriteText(domain, result, target, grace);
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

    /// <summary>The verdict's name in --json: libvirt-covers, unlimited, ram-copies, iommufd-bars.</summary>
    private static string ReasonName(GraceMemlockReason reason) => reason switch
    {
        GraceMemlockReason.LibvirtCovers => "libvirt-covers",
        GraceMemlockReason.Unlimited => "unlimited",
        GraceMemlockReason.RamCopies => "ram-copies",
        _ => "iommufd-bars",
    };

    /// <summary>What explain says of the domain's own hard_limit against the Grace requirement, when it has one.</summary>
    private static string? HardLimitVerdict(DomainDefinition d, GraceMemlockResult g) => d.HardLimitKiB is { } hard && hard < DomainDefinition.UnlimitedKiB
        ? hard >= g.NeedKiB
            ? $"the domain's <hard_limit> ({hard} KiB) covers the {g.NeedKiB} KiB needed."
            : $"the domain's <hard_limit> ({hard} KiB) is below the {g.NeedKiB} KiB needed: raise it (libvirt-nvlink transform --memlock write)."
        : null;

    private static void WriteJson(DomainDefinition d, MemlockResult r, TargetLibvirt target, GraceMemlockResult? grace)
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
            WriteDerivation(w, r.Terms, r.Notes);
            if (grace is not null)
            {
                w.WriteStartObject("grace");
                w.WriteNumber("needBytes", grace.NeedBytes);
                w.WriteBoolean("hardLimitNeeded", grace.HardLimitNeeded);
                w.WriteString("reason", ReasonName(grace.Reason));
                w.WriteString("why", grace.Why);
                WriteDerivation(w, grace.Terms, HardLimitVerdict(d, grace) is { } verdict ? [.. grace.Notes, verdict] : grace.Notes);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    /// <summary>The "terms", "formulas" and "notes" members of one derivation.</summary>
    private static void WriteDerivation(Utf8JsonWriter w, IReadOnlyList<MemlockTerm> terms, IReadOnlyList<string> notes)
    {
        w.WriteStartObject("terms");
        foreach (var t in terms) w.WriteNumber(t.Name, t.Value);
        w.WriteEndObject();
        w.WriteStartObject("formulas");
        foreach (var t in terms) w.WriteString(t.Name, t.Formula);
        w.WriteEndObject();
        w.WriteStartArray("notes");
        foreach (var n in notes) w.WriteStringValue(n);
        w.WriteEndArray();
    }

    private static void WriteText(DomainDefinition d, MemlockResult r, TargetLibvirt target, GraceMemlockResult? grace)
    {
        var inv = CultureInfo.InvariantCulture;
        var o = Console.Out;
        o.WriteLine($"domain '{d.Name}', libvirt {target.Version} ({target.Source})");
        var limit = r.Unlimited ? "unlimited" : r.Bytes == 0 ? "none (libvirt leaves the process limit alone)" : string.Create(inv, $"{r.Bytes} bytes ({r.Bytes / (double)(1UL << 30):0.##} GiB)");
        o.WriteLine($"locked-memory limit: {limit}   rule: {r.Rule}");
        WriteTermLines(o, r.Terms);
        foreach (var n in r.Notes) o.WriteLine($"  note: {n}");
        if (grace is null) return;
        o.WriteLine(string.Create(inv, $"Grace requirement: {grace.NeedBytes} bytes ({grace.NeedBytes / (double)(1UL << 30):0.##} GiB)   hard_limit needed: {(grace.HardLimitNeeded ? "yes" : "no")} ({ReasonName(grace.Reason)})"));
        WriteTermLines(o, grace.Terms);
        o.WriteLine($"  verdict: {grace.Why}.");
        if (grace.HardLimitNeeded) o.WriteLine($"  set <memtune><hard_limit unit='KiB'>{grace.NeedKiB}</hard_limit></memtune> (libvirt-nvlink transform writes it with --memlock auto).");
        foreach (var n in grace.Notes) o.WriteLine($"  note: {n}");
        if (HardLimitVerdict(d, grace) is { } verdict) o.WriteLine($"  note: {verdict}");
    }

    private static void WriteTermLines(TextWriter o, IReadOnlyList<MemlockTerm> terms)
    {
        foreach (var t in terms) o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {t.Name,-16} {t.Value,20}   {t.Formula}"));
    }
}
