using System.Globalization;
using System.Text;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Cli.Rendering;

/// <summary>A Graphviz picture: IOMMU groups as clusters, GPUs and bridges as nodes, NVLinks as edges; Grace GPUs grouped by host SMMUv3.</summary>
public static class TopologyDot
{
    public static string Render(HostTopology t)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("graph host {");
        sb.AppendLine("  rankdir=LR;");
        sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=10];");
        var members = new HashSet<PciAddress>(t.Gpus.Select(g => g.Address).Concat(t.Bridges.Select(b => b.Address)));
        var errors = new HashSet<string>(t.Findings.Where(f => f.Severity == Severity.Error).Select(f => f.Device), StringComparer.Ordinal);
        var byGroup = members.GroupBy(a => t.IommuGroupOf(a));
        foreach (var group in byGroup.OrderBy(g => g.Key ?? int.MaxValue))
        {
            var indent = "  ";
            if (group.Key is { } gid)
            {
                sb.AppendLine(inv, $"  subgraph cluster_group{gid} {{");
                sb.AppendLine(inv, $"    label=\"IOMMU group {gid}\"; style=rounded; color=gray50;");
                indent = "    ";
            }
            foreach (var a in group.Order())
            {
                var color = errors.Contains(a.ToString()) ? ", color=red, penwidth=2" : "";
                if (t.GpuAt(a) is { } g)
                {
                    var mem = g.Memory is { } m ? $"\\nRAM 0x{m.Address:x} node {m.NumaNode}" : "";
                    sb.AppendLine(inv, $"{indent}\"{a}\" [shape=box, style=filled, fillcolor=palegreen, label=\"GPU {a}\\n{g.Driver ?? "no driver"}{mem}\"{color}];");
                }
                else if (t.BridgeAt(a) is { } b)
                {
                    sb.AppendLine(inv, $"{indent}\"{a}\" [shape=ellipse, style=filled, fillcolor=lightblue, label=\"NPU {a}\\nlink {b.LinkIndex?.ToString(inv) ?? "?"}\"{color}];");
                }
            }
            if (group.Key is not null) sb.AppendLine("  }");
        }
        foreach (var b in t.Bridges)
        {
            if (b.Gpu is { } g && members.Contains(g))
            {
                var listed = t.GpuAt(g)?.Bridges.Contains(b.Address) == true;
                sb.AppendLine(inv, $"  \"{g}\" -- \"{b.Address}\" [label=\"NVLink{(b.LinkSpeed is { } s ? " speed " + s.ToString(inv) : "")}\"{(listed ? "" : ", style=dashed, color=red")}];");
            }
        }
        RenderGrace(t, sb, errors);
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>Grace GPUs in one cluster per host SMMUv3 they sit behind, each tied to its CPU node.</summary>
    private static void RenderGrace(HostTopology t, StringBuilder sb, HashSet<string> errors)
    {
        var inv = CultureInfo.InvariantCulture;
        var clusters = t.GraceSmmuGroups.Select(g => (Label: $"SMMUv3 {g.Smmu}", g.Gpus)).ToList();
        if (t.GraceGpus.Where(g => g.Smmu is null).ToList() is { Count: > 0 } unknown) clusters.Add((Label: "", Gpus: unknown));
        for (var i = 0; i < clusters.Count; i++)
        {
            var indent = "  ";
            if (clusters[i].Label.Length > 0)
            {
                sb.AppendLine(inv, $"  subgraph cluster_smmu{i} {{");
                sb.AppendLine(inv, $"    label=\"{clusters[i].Label}\"; style=rounded; color=steelblue;");
                indent = "    ";
            }
            foreach (var g in clusters[i].Gpus)
            {
                var color = errors.Any(e => e.Contains(g.Address.ToString(), StringComparison.Ordinal)) ? ", color=red, penwidth=2" : "";
                var gi = g.GiNodes.Count == 0 ? "none" : Domain.Nodeset.Format(g.GiNodes);
                sb.AppendLine(inv, $"{indent}\"{g.Address}\" [shape=box, style=filled, fillcolor=palegreen, label=\"{g.Model} {g.Address}\\n{g.Driver ?? "no driver"}\\nGI nodes {gi}\"{color}];");
            }
            if (clusters[i].Label.Length > 0) sb.AppendLine("  }");
        }
        foreach (var node in t.GraceGpus.Select(g => g.NumaNode).OfType<int>().Distinct().Order())
        {
            sb.AppendLine(inv, $"  \"node{node}\" [shape=ellipse, style=filled, fillcolor=lightyellow, label=\"CPU node {node}\"];");
        }
        foreach (var g in t.GraceGpus.Where(g => g.NumaNode is not null))
        {
            sb.AppendLine(inv, $"  \"node{g.NumaNode}\" -- \"{g.Address}\";");
        }
    }
}
