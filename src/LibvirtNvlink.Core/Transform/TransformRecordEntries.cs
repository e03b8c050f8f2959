using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Transform;

/// <summary>lvn:grace-gpu: a Grace GPU given guest NUMA nodes mirroring host generic-initiator nodes.</summary>
internal sealed record GraceGpuEntry(PciAddress Source, IReadOnlyList<int> Nodes, IReadOnlyList<int> HostNodes, GiForm Form);

/// <summary>lvn:added-cell: a guest NUMA cell added for a GPU, or cell 0 with all vCPUs and memory (Gpu null).</summary>
internal sealed record AddedCellEntry(int Id, PciAddress? Gpu);

/// <summary>lvn:added-alias: the user alias given to a GPU hostdev.</summary>
internal sealed record AddedAliasEntry(PciAddress Source, string Name);

/// <summary>lvn:added-driver-model: &lt;driver model&gt; set on a GPU hostdev, in a &lt;driver&gt; created for it or not.</summary>
internal sealed record AddedDriverModelEntry(PciAddress Source, bool CreatedDriver);

/// <summary>
/// lvn:added-qemu-args: the exact &lt;qemu:arg&gt; values added, in order, and the position (among the
/// commandline's args) of the first. Records from before this form kept only the first value and a count
/// (<paramref name="Values"/> then holds just that first value and <paramref name="Position"/> is null).
/// </summary>
internal sealed record AddedQemuArgsEntry(int? Position, IReadOnlyList<string> Values, int Count);

/// <summary>lvn:grace-expander: a pcie-expander-bus added for the GPUs behind one host SMMU, on guest cell Node.</summary>
internal sealed record GraceExpanderEntry(int Index, int Node, string? Smmu);

/// <summary>lvn:grace-root-port: a pcie-root-port added under expander Expander for the GPU Source.</summary>
internal sealed record GraceRootPortEntry(int Index, PciAddress Source, int Expander);

/// <summary>lvn:added-iommufd: iommufd='yes' set on a GPU hostdev's &lt;driver&gt;, created for it or not.</summary>
internal sealed record AddedIommufdEntry(PciAddress Source, bool CreatedDriver);
