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
    private Dictionary<uint, string>? _phandles;


    public SysfsDeviceTree(HostRoot root) => _root = root;

    public static bool IsPresent(HostRoot root) => Directory.Exists(root.Map(BasePath));

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
        // NVLink2 phandles point at PCI host bridges' subtrees, xscom NPU link nodes and memory nodes. Index those
        // first; a real POWER9 tree has thousands of other nodes (CPUs, xscom units) a full walk would read.
        if (_likely is null)
        {
            _likely = new Dictionary<uint, string>();
            foreach (var top in TopLevelNodes().Where(n => n.StartsWith("pciex@", StringComparison.Ordinal) ||
                                                           n.StartsWith("memory@", StringComparison.Ordinal) ||
                                                           n.StartsWith("xscom@", StringComparison.Ordinal)))
            {
                Walk("/" + top, _likely);
            }
        }
        if (_likely.TryGetValue(phandle, out var path)) return path;
        if (_phandles is null)
        {
            _phandles = new Dictionary<uint, string>();
            Walk("/", _phandles);
        }
        return _phandles.GetValueOrDefault(phandle);
    }

    private Dictionary<uint, string>? _likely;

    private IEnumerable<string> TopLevelNodes()
    {
        var dir = new DirectoryInfo(_root.Map(BasePath));
        try { return [.. dir.EnumerateDirectories().Where(d => d.LinkTarget is null).Select(d => d.Name)]; }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    private static string PropertyPath(string nodePath, string name) =>
        BasePath + (nodePath == "/" ? "" : nodePath) + "/" + name;

    private void Walk(string start, Dictionary<uint, string> index)
    {
        var pending = new Stack<string>();
        pending.Push(start);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            foreach (var name in PhandleNames)
            {
                byte[]? bytes;
                try { bytes = ReadProperty(node, name); }
                catch (DeviceTreeAccessException) { continue; }
                if (bytes is { Length: 4 })
                {
                    index.TryAdd(DtDecode.U32(bytes, name), node);
                    break;
                }
            }
            // d_type from getdents says directory or symlink without a stat per entry; real device trees have no
            // symlinked nodes, and following one could loop forever.
            var children = new System.IO.Enumeration.FileSystemEnumerable<string>(
                _root.Map(BasePath + (node == "/" ? "" : node)),
                (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(),
                new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
            {
                ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => e.IsDirectory,
            };
            List<string> names;
            try { names = [.. children]; }
            catch (IOException) { continue; }
            foreach (var name in names)
            {
                pending.Push(DtPath.Combine(node, name));
            }
        }
    }
}
