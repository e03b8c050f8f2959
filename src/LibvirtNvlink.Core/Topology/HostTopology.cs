using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Topology;

/// <summary>An immutable picture of one host's GPUs, NVLink2 bridges, IOMMU groups and the problems found.</summary>
public sealed class HostTopology
{
    private readonly Dictionary<PciAddress, NvGpu> _gpus;
    private readonly Dictionary<PciAddress, NpuBridge> _bridges;
    private IReadOnlyList<GraceGpu> _graceGpus = [];
    private Dictionary<PciAddress, GraceGpu> _grace = [];

    public HostTopology(
        IReadOnlyDictionary<PciAddress, PciDevice> devices,
        IReadOnlyList<NvGpu> gpus,
        IReadOnlyList<NpuBridge> bridges,
        bool hasDeviceTree,
        IReadOnlyList<Finding> findings)
    {
        Devices = devices;
        Gpus = gpus;
        Bridges = bridges;
        HasDeviceTree = hasDeviceTree;
        Findings = findings;
        _gpus = gpus.ToDictionary(g => g.Address);
        _bridges = bridges.ToDictionary(b => b.Address);
        IommuGroups = devices.Values
            .Where(d => d.IommuGroup is not null)
            .GroupBy(d => d.IommuGroup!.Value)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<PciAddress>)[.. g.Select(d => d.Address).Order()]);
    }

    public IReadOnlyDictionary<PciAddress, PciDevice> Devices { get; }
    public IReadOnlyList<NvGpu> Gpus { get; }
    public IReadOnlyList<NpuBridge> Bridges { get; }
    public bool HasDeviceTree { get; }
    public IReadOnlyList<Finding> Findings { get; }
    public IReadOnlyDictionary<int, IReadOnlyList<PciAddress>> IommuGroups { get; }

    /// <summary>/proc/sys/kernel/osrelease; read only on hosts with Grace GPUs (their memlock and version rules), else null.</summary>
    public string? KernelRelease { get; init; }

    /// <summary>Grace Hopper / Grace Blackwell GPUs, with their generic-initiator NUMA nodes.</summary>
    public IReadOnlyList<GraceGpu> GraceGpus
    {
        get => _graceGpus;
        init
        {
            _graceGpus = value;
            _grace = value.ToDictionary(g => g.Address);
        }
    }

    /// <summary>The host's NUMA nodes; filled only where Grace GPUs need them.</summary>
    public IReadOnlyList<NumaNodeInfo> NumaNodes { get; init; } = [];

    /// <summary>What the kernel offers the production Grace layout (iommufd, nested SMMUv3).</summary>
    public GraceHostSupport GraceSupport { get; init; } = GraceHostSupport.Unknown;

    public GraceGpu? GraceGpuAt(PciAddress address) => _grace.GetValueOrDefault(address);

    /// <summary>
    /// The Grace GPUs grouped by the host SMMUv3 they sit behind, in the order of the instance names; GPUs without a
    /// known SMMUv3 are not in any group. Two GPUs in one group share a physical SMMU (and so one accelerated vSMMU).
    /// </summary>
    public IReadOnlyList<(string Smmu, IReadOnlyList<GraceGpu> Gpus)> GraceSmmuGroups =>
        [.. GraceGpus.Where(g => g.Smmu is not null).GroupBy(g => g.Smmu!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<GraceGpu>)[.. g.OrderBy(x => x.Address)]))];

    public NumaNodeInfo? NumaNode(int id) => NumaNodes.FirstOrDefault(n => n.Id == id);

    public bool HasErrors => Findings.Any(f => f.Severity == Severity.Error);

    public NvGpu? GpuAt(PciAddress address) => _gpus.GetValueOrDefault(address);

    public NpuBridge? BridgeAt(PciAddress address) => _bridges.GetValueOrDefault(address);

    public NvGpu? Nv2GpuAt(PciAddress address) => GpuAt(address) is { IsNvlink2: true } g ? g : null;

    /// <summary>The NV2 GPU a device belongs to: the GPU itself, or the GPU of a bridge.</summary>
    public NvGpu? OwningGpu(PciAddress address)
    {
        if (Nv2GpuAt(address) is { } gpu) return gpu;
        return BridgeAt(address)?.Gpu is { } g ? Nv2GpuAt(g) : null;
    }

    public int? IommuGroupOf(PciAddress address) => Devices.GetValueOrDefault(address)?.IommuGroup;

    public IReadOnlyList<PciAddress> IommuGroupMembers(int group) =>
        IommuGroups.TryGetValue(group, out var members) ? members : [];
}
