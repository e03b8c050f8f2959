using System.Globalization;

namespace LibvirtNvlink.Domain;

/// <summary>Which guest NUMA cells stand for which host node, the way the Grace transform ties them.</summary>
public static class GuestNumaCells
{
    /// <summary>
    /// The guest cells with CPUs that stand for host node <paramref name="hostNode"/>: a cell stands for the host node
    /// its &lt;numatune&gt;&lt;memnode&gt; pins it to (the first of the nodeset), an unpinned cell for the GPU's own CPU
    /// node — the same reading the transform gives the GPU's generic-initiator distances. Empty when the guest has no
    /// NUMA cells with CPUs.
    /// </summary>
    public static IReadOnlyList<int> StandingFor(DomainDefinition d, int hostNode)
    {
        var memnodes = d.Root.Element("numatune")?.Elements("memnode").ToList() ?? [];
        var cells = new List<int>();
        foreach (var cell in d.Root.Element("cpu")?.Element("numa")?.Elements("cell") ?? [])
        {
            // cpus='' is a cell without CPUs to libvirt, as much as a missing attribute (the transform reads it so too).
            if (string.IsNullOrWhiteSpace((string?)cell.Attribute("cpus")) ||
                !int.TryParse((string?)cell.Attribute("id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
            var set = (string?)memnodes.FirstOrDefault(m => (string?)m.Attribute("cellid") == id.ToString(CultureInfo.InvariantCulture))?.Attribute("nodeset");
            int? pinned = set is not null && Nodeset.TryParse(set, out var nodes, out _) && nodes.Count > 0 ? nodes[0] : null;
            if (pinned is null || pinned == hostNode) cells.Add(id);
        }
        return cells;
    }
}
