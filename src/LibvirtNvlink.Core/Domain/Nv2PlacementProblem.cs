namespace LibvirtNvlink.Domain;

/// <summary>A way the guest placement of one host IOMMU group breaks QEMU's NVLink2 rules (see <see cref="Nv2Placement"/>).</summary>
public abstract record Nv2PlacementProblem(int Group);
