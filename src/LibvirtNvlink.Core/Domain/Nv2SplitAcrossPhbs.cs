namespace LibvirtNvlink.Domain;

/// <summary>The group's hostdevs sit on more than one guest PHB; QEMU pairs a GPU with its bridges per PHB.</summary>
public sealed record Nv2SplitAcrossPhbs(int Group, IReadOnlyList<(PciHostdev Hostdev, int Bus)> Placed) : Nv2PlacementProblem(Group);
