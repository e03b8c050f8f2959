namespace LibvirtNvlink.Simulation;

/// <summary>A host layout that cannot be written: the message names the layout and what is wrong with it.</summary>
public sealed class HostLayoutException(string message) : Exception(message);
