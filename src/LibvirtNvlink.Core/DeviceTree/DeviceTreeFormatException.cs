namespace LibvirtNvlink.DeviceTree;

/// <summary>A device-tree property whose bytes do not have the shape its binding requires.</summary>
public sealed class DeviceTreeFormatException(string propertyPath, string problem)
    : Exception($"{propertyPath}: {problem}")
{
    public string PropertyPath { get; } = propertyPath;
    public string Problem { get; } = problem;
}
