using System.Globalization;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess;

/// <summary>NUMA nodes as /sys/devices/system/node shows them: memory blocks, CPUs, memory, distances.</summary>
public sealed class NumaMemoryReader(HostRoot root)
{
    public const string NodesPath = "/sys/devices/system/node";

    /// <summary>Every nodeN directory. A node has CPUs when its cpulist is not empty and memory when meminfo's
    /// MemTotal is not 0 — the same tests the kernel's has_cpu / has_memory masks make.</summary>
    public IReadOnlyList<NumaNodeInfo> ReadNodes(List<Finding> findings)
    {
        var ids = new List<int>();
        foreach (var name in root.ListNames(NodesPath))
        {
            if (name.StartsWith("node", StringComparison.Ordinal) &&
                int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) ids.Add(id);
        }
        ids.Sort();
        var nodes = new List<NumaNodeInfo>(ids.Count);
        foreach (var id in ids)
        {
            var dir = $"{NodesPath}/node{id.ToString(CultureInfo.InvariantCulture)}";
            try
            {
                var cpus = root.ReadText(dir + "/cpulist") ?? "";
                var memTotal = MemTotalKiB(root.ReadText(dir + "/meminfo"));
                var distances = new Dictionary<int, int>();
                var fields = (root.ReadText(dir + "/distance") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == ids.Count)
                {
                    for (var i = 0; i < fields.Length; i++)
                    {
                        if (int.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var d)) distances[ids[i]] = d;
                    }
                }
                else
                {
                    findings.Add(new Finding(Severity.Warning, "numa-distance-unreadable", root.Map(dir + "/distance"),
                        $"{root.Map(dir + "/distance")} lists {fields.Length} distances for {ids.Count} nodes; guest NUMA distances will use the defaults."));
                }
                nodes.Add(new NumaNodeInfo(id, cpus.Length > 0, memTotal is > 0, distances));
            }
            catch (IOException e)
            {
                findings.Add(new Finding(Severity.Warning, "unreadable-file", root.Map(dir), $"Cannot read NUMA node {id}: {e.Message}"));
            }
        }
        return nodes;
    }

    private static ulong? MemTotalKiB(string? meminfo)
    {
        foreach (var line in (meminfo ?? "").Split('\n'))
        {
            var at = line.IndexOf("MemTotal:", StringComparison.Ordinal);
            if (at < 0) continue;
            var value = line[(at + 9)..].Trim().Split(' ')[0];
            return ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib : null;
        }
        return null;
    }

    /// <returns>true if any block is online, false if none is, null when the node cannot be read.</returns>
    public bool? NodeHasOnlineMemory(int node)
    {
        var dir = $"{NodesPath}/node{node.ToString(CultureInfo.InvariantCulture)}";
        if (!root.Exists(dir))
        {
            // GPU RAM that was never hot-added has no node directory at all: offline.
            return false;
        }
        try
        {
            foreach (var name in root.ListNames(dir))
            {
                if (!name.StartsWith("memory", StringComparison.Ordinal) || name.Length == 6 || !char.IsAsciiDigit(name[6])) continue;
                if (root.ReadText($"{dir}/{name}/state") == "online") return true;
            }
            return false;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
