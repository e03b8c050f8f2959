using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Domain;

/// <summary>
/// The guest architecture libvirt gives a domain whose &lt;os&gt;&lt;type&gt; has no arch: libvirt's
/// virCapabilitiesDomainDataLookup (src/conf/capabilities.c) first tries the host's arch with the domain's machine
/// type, emulator and virt type, and only then the first guest arch its capabilities list for them. So a pseries
/// domain without arch is ppc64le on an AC922, and an aarch64 virt domain on a Grace host.
/// </summary>
public static class GuestArch
{
    /// <summary>The host's arch as its GPUs tell it: NVLink2 GPUs sit in POWER9 hosts, Grace GPUs in aarch64 ones.</summary>
    public static string? HostArch(HostTopology host) =>
        host.GraceGpus.Count > 0 ? "aarch64" : host.Gpus.Any(g => g.IsNvlink2) ? "ppc64le" : null;

    /// <summary>
    /// Decides a missing arch the way libvirt does, recording it on the domain; returns the note for stderr, or null
    /// when the XML names its arch or nothing can be decided (the caller's arch check then names the element).
    /// </summary>
    public static string? Resolve(DomainDefinition d, string? hostArch)
    {
        if (d.WrittenArch is not null) return null;
        var candidates = Candidates(d.Machine, d.Devices?.Element("emulator")?.Value);
        string? arch;
        string why;
        if (hostArch is not null && (candidates is null || candidates.Contains(hostArch)))
        {
            arch = hostArch;
            why = "the host's arch, which libvirt prefers when it can run the domain's machine type";
        }
        else if (candidates is { Count: > 0 })
        {
            arch = candidates[0];
            why = "the first arch libvirt lists for the domain's machine type and emulator";
        }
        else
        {
            return null;
        }
        d.AssumeArch(arch);
        return $"domain '{d.Name}': <os><type> names no arch; assuming arch='{arch}' as libvirt will ({why}). " +
               $"Write <type arch='{arch}' …> to make it explicit.";
    }

    /// <summary>The arches the machine type and emulator allow, in libvirt's capability order; null when unconstrained.</summary>
    private static List<string>? Candidates(string? machine, string? emulator)
    {
        List<string>? set = null;
        if (emulator is not null)
        {
            var name = Path.GetFileName(emulator.Trim());
            if (name.StartsWith("qemu-system-", StringComparison.Ordinal))
            {
                set = name["qemu-system-".Length..] switch
                {
                    "ppc64" or "ppc64le" => ["ppc64", "ppc64le"],
                    "arm" => ["armv6l", "armv7l"],
                    var other => [other],
                };
            }
        }
        if (machine is not null)
        {
            List<string>? byMachine = machine.StartsWith("pseries", StringComparison.Ordinal) ? ["ppc64", "ppc64le"]
                : machine.StartsWith("virt", StringComparison.Ordinal) ? ["armv6l", "armv7l", "aarch64", "riscv32", "riscv64", "loongarch64"]
                : null;
            if (byMachine is not null) set = set is null ? byMachine : [.. byMachine.Where(set.Contains)];
        }
        return set;
    }
}
