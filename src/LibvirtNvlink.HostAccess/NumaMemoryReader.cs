using System.Globalization;

namespace LibvirtNvlink.HostAccess;

/// <summary>Whether a NUMA node has online memory blocks (/sys/devices/system/node/nodeN/memoryM/state).</summary>
public sealed class NumaMemoryReader(HostRoot root)
{
    public const string NodesPath = "/sys/devices/system/node";

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
