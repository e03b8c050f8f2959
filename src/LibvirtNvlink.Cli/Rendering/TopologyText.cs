using System.Globalization;
using System.Text;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Cli.Rendering;

/// <summary>The readable table an operator gets from `topology` without flags.</summary>
public static class TopologyText
{
    public static string Render(HostTopology t)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        if (t.Gpus.Count == 0 && t.GraceGpus.Count == 0)
        {
            sb.AppendLine("No NVIDIA GPUs on this host.");
        }
        foreach (var g in t.Gpus)
        {
            sb.Append(inv, $"GPU {g.Address}  {g.Vendor:x4}:{g.Device:x4}  driver={g.Driver ?? "(none)"}  iommu_group={Show(g.IommuGroup)}  numa={Show(g.NumaNode)}");
            sb.AppendLine(g.IsNvlink2 ? "" : "  (no NVLink2)");
            if (g.Memory is { } m)
            {
                sb.AppendLine(inv, $"    RAM window 0x{m.Address:x}+{Bytes(m.Size)}  node {Show(m.NumaNode)}  {(m.OnlineOnHost ? "ONLINE on host" : "offline on host")}");
            }
            foreach (var ba in g.Bridges)
            {
                var b = t.BridgeAt(ba)!;
                sb.AppendLine(inv, $"    bridge {b.Address}  link {Show(b.LinkIndex)}  speed {(b.LinkSpeed is { } s ? s.ToString(inv) : "?")}  tgt {Hex(b.Tgt)}  atsd {Hex(b.Atsd)}  iommu_group={Show(b.IommuGroup)}  driver={b.Driver ?? "(none)"}{(b.LibvirtSeesNv2Bridge ? "" : "  [libvirt does not see an NV2 bridge]")}");
            }
        }
        foreach (var g in t.GraceGpus)
        {
            sb.AppendLine(inv, $"GPU {g.Address}  10de:{g.Device:x4}  {g.Model}  driver={g.Driver ?? "(none)"}  iommu_group={Show(g.IommuGroup)}  numa={Show(g.NumaNode)}  smmu={g.Smmu ?? "?"}");
            sb.AppendLine(inv, $"    CPU node {Show(g.NumaNode)}  generic-initiator nodes {(g.GiNodes.Count == 0 ? "(none)" : Domain.Nodeset.Format(g.GiNodes))}  64-bit BARs {Bytes(g.Mmio64Bytes)}");
            sb.AppendLine(inv, $"    BARs {(g.Bars.Count == 0 ? "(none)" : string.Join("  ", g.Bars.Select(b => $"BAR{b.Index} {Bytes(b.Size)}{(b.Is64Bit ? "" : " (32-bit)")}")))}");
        }
        if (t.GraceGpus.Count > 0)
        {
            // GPUs behind one physical SMMU can only share one accelerated vSMMU in a guest.
            sb.AppendLine("Host SMMUv3 instances of the Grace GPUs:");
            foreach (var (smmu, gpus) in t.GraceSmmuGroups)
            {
                sb.AppendLine(inv, $"    {smmu}  {string.Join(" ", gpus.Select(g => g.Address))}");
            }
            if (t.GraceGpus.Where(g => g.Smmu is null).Select(g => g.Address).ToList() is { Count: > 0 } unknown)
            {
                sb.AppendLine(inv, $"    (no SMMUv3 link)  {string.Join(" ", unknown)}");
            }
        }
        var orphans = t.Bridges.Where(b => t.Gpus.All(g => !g.Bridges.Contains(b.Address))).ToList();
        if (orphans.Count > 0)
        {
            sb.AppendLine("Bridges not listed by any GPU:");
            foreach (var b in orphans) sb.AppendLine(inv, $"    bridge {b.Address}  gpu {b.Gpu?.ToString() ?? "?"}  iommu_group={Show(b.IommuGroup)}");
        }
        sb.AppendLine();
        if (t.Findings.Count == 0)
        {
            sb.AppendLine("No findings.");
        }
        else
        {
            sb.AppendLine(inv, $"Findings ({t.Findings.Count(f => f.Severity == Severity.Error)} error(s), {t.Findings.Count(f => f.Severity == Severity.Warning)} warning(s)):");
            foreach (var f in t.Findings)
            {
                sb.AppendLine(inv, $"  {Finding.SeverityName(f.Severity),-7} {f.Device}: {f.Message}");
            }
        }
        return sb.ToString();
    }

    private static string Show(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";

    private static string Hex(ulong? v) => v is { } x ? "0x" + x.ToString("x", CultureInfo.InvariantCulture) : "?";

    private static string Bytes(ulong size) =>
        size % (1UL << 30) == 0 ? (size >> 30).ToString(CultureInfo.InvariantCulture) + "GiB"
        : size % (1UL << 20) == 0 ? (size >> 20).ToString(CultureInfo.InvariantCulture) + "MiB"
        : size.ToString(CultureInfo.InvariantCulture) + "B";
}
