using LibvirtNvlink.DeviceTree;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// The device tree as Linux exposes it: one directory per node, one file per property.
/// The phandle index is built on first use only, so callers that never follow a phandle never walk the tree.
/// </summary>
public sealed class SysfsDeviceTree : IDeviceTree
{
    public const string BasePath = "/sys/firmware/devicetree/base";
    private static readonly string[] PhandleNames = ["phandle", "linux,phandle", "ibm,phandle"];
    private readonly HostRoot _root;
    private readonly IReadOnlyCollection<string> _knownNodes;
    private Dictionary<uint, string>? _likely;
    private Dictionary<uint, string>? _phandles;

    /// <param name="knownNodes">Nodes already known to matter — the of_nodes of the PCI devices read — whose
    /// phandles are indexed first.</param>
    public SysfsDeviceTree(HostRoot root, IReadOnlyCollection<string>? knownNodes = null)
    {
        _root = root;
        _knownNodes = knownNodes ?? [];
    }

    public static bool IsPresent(HostRoot root) => root.IsDirectory(BasePath);

    public byte[]? ReadProperty(string nodePath, string name)
    {
        var path = PropertyPath(nodePath, name);
        try
        {
            return _root.ReadBytes(path);
        }
        catch (IOException e)
        {
            throw new DeviceTreeAccessException(_root.Map(path), e.Message, e);
        }
    }

    public bool HasProperty(string nodePath, string name) => _root.Exists(PropertyPath(nodePath, name));

    public string? ResolvePhandle(uint phandle)
    {
        _likely ??= IndexLikelyTargets();
        if (_likely.TryGetValue(phandle, out var path)) return path;
        if (_phandles is null)
        {
            _phandles = new Dictionary<uint, string>();
            Walk("/", _phandles);
        }
        return _phandles.GetValueOrDefault(phandle);
    }

    /// <summary>
    /// Where NVLink2 phandles point (skiboot's layout; docs/platform-facts.md §1): the GPU and bridge nodes of PCI
    /// devices (ibm,gpu, ibm,npu), the link@N nodes under xscom@…/npu@… (ibm,nvlink) and the top-level memory@
    /// nodes (memory-region). Indexing just those reads a few dozen files; a real POWER9 tree has thousands of other
    /// nodes (CPUs, xscom units), and the hook runs this before every GPU guest starts. A phandle found nowhere
    /// here still gets the full walk.
    /// </summary>
    private Dictionary<uint, string> IndexLikelyTargets()
    {
        var index = new Dictionary<uint, string>();
        foreach (var node in _knownNodes)
        {
            IndexPhandle(node, index);
        }
        foreach (var top in ChildNodeNames("/"))
        {
            if (top.StartsWith("memory@", StringComparison.Ordinal))
            {
                IndexPhandle("/" + top, index);
            }
            else if (top.StartsWith("xscom@", StringComparison.Ordinal))
            {
                foreach (var npu in ChildNodeNames("/" + top))
                {
                    if (!npu.StartsWith("npu@", StringComparison.Ordinal)) continue;
                    var npuNode = $"/{top}/{npu}";
                    foreach (var link in ChildNodeNames(npuNode))
                    {
                        if (link.StartsWith("link@", StringComparison.Ordinal)) IndexPhandle($"{npuNode}/{link}", index);
                    }
                }
            }
        }
        return index;
    }

    private static string PropertyPath(string nodePath, string name) =>
        BasePath + (nodePath == "/" ? "" : nodePath) + "/" + name;

    private void IndexPhandle(string node, Dictionary<uint, string> index)
    {
        foreach (var name in PhandleNames)
        {
            byte[]? bytes;
            try { bytes = ReadProperty(node, name); }
            catch (DeviceTreeAccessException) { continue; }
            if (bytes is { Length: 4 })
            {
                index.TryAdd(DtDecode.U32(bytes, name), node);
                return;
            }
        }
    }

    private void Walk(string start, Dictionary<uint, string> index)
    {
        var pending = new Stack<string>();
        pending.Push(start);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            IndexPhandle(node, index);
            foreach (var name in ChildNodeNames(node))
            {
                pending.Push(DtPath.Combine(node, name));
            }
        }
    }

    /// <summary>The child nodes: subdirectories, never symlinks (real device trees have no symlinked nodes).</summary>
    private List<string> ChildNodeNames(string node) => _root.ListSubdirectories(BasePath + (node == "/" ? "" : node));
}
