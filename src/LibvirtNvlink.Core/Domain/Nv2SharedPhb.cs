using System.Xml.Linq;

namespace LibvirtNvlink.Domain;

/// <summary>
/// The group's PHB also holds other devices (<paramref name="Others"/>, in document order), among them hostdevs of
/// the host IOMMU groups <paramref name="OtherGroups"/>. QEMU's NVLink2 ATSD support needs one host IOMMU group per PHB.
/// </summary>
public sealed record Nv2SharedPhb(int Group, int Bus, IReadOnlyList<XElement> Others, IReadOnlyList<int> OtherGroups) : Nv2PlacementProblem(Group);
