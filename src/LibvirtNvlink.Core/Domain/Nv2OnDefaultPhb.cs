namespace LibvirtNvlink.Domain;

/// <summary>The group sits on the default PHB (bus 0), which libvirt keeps for emulated devices.</summary>
public sealed record Nv2OnDefaultPhb(int Group) : Nv2PlacementProblem(Group);
