namespace LibvirtNvlink.DeviceTree;

/// <summary>
/// Read access to a device tree. Node paths are absolute within the tree ("/pciex@6030200000000/bridge@0,1").
/// Implementations read lazily, so a caller that needs three properties does not pay for the whole tree.
/// </summary>
public interface IDeviceTree
{
    /// <summary>The raw bytes of a property, or null when the node or property does not exist.</summary>
    /// <exception cref="DeviceTreeAccessException">The property exists but cannot be read.</exception>
    byte[]? ReadProperty(string nodePath, string name);

    /// <summary>Existence only, exactly like libvirt's <c>virFileExists</c> test on of_node files.</summary>
    bool HasProperty(string nodePath, string name);

    /// <summary>Resolves a phandle through the index of every node's phandle, linux,phandle or ibm,phandle.</summary>
    string? ResolvePhandle(uint phandle);
}

/// <summary>A device-tree file that exists but could not be read (permissions, not a regular file, too large).</summary>
public sealed class DeviceTreeAccessException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
