using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Snapshot;

/// <summary>Which probe answers for an IOMMU group; null: the group is not probed.</summary>
public delegate IVfioProbe? VfioProbeChooser(int group);
