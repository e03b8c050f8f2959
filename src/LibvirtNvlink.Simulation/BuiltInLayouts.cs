using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Simulation;

/// <summary>The example hosts bundled under examples/hosts, each faithful to a real machine or a real failure.</summary>
public static class BuiltInLayouts
{
    private const ulong Chip0NpuMmio = 0x6030200000000UL;
    private const ulong Chip8NpuMmio = 0x6230200000000UL;

    /// <summary>GPU RAM windows in the common memory map: 0x0400_0000_0000 on chip 0, 0x2400_0000_0000 on chip 8.</summary>
    private const ulong Chip0GpuRam = 0x0400_0000_0000UL;
    private const ulong Chip8GpuRam = 0x2400_0000_0000UL;

    /// <summary>The RFC's AC922: 6 GPUs, 2 links each, one IOMMU group per GPU with its bridges (4,5,6,10,11,12).</summary>
    public static HostLayout Witherspoon6Gpu { get; } = new(
        "witherspoon-6gpu",
        "IBM AC922 with 6 V100 SXM2, 2 NVLink2 bridges per GPU, one IOMMU group per GPU (the RFC's layout)",
        "powernv",
        "4.18.0-147.el8.ppc64le",
        [
            new ChipLayout(0, 0x0004, 0x0006, Chip0NpuMmio, 8, Chip0GpuRam, 0,
                [new GpuLayout(0x04, 2, 4, 255), new GpuLayout(0x05, 2, 5, 254), new GpuLayout(0x06, 2, 6, 253)]),
            new ChipLayout(8, 0x0035, 0x0007, Chip8NpuMmio, 8, Chip8GpuRam, 8,
                [new GpuLayout(0x03, 2, 10, 252), new GpuLayout(0x04, 2, 11, 251), new GpuLayout(0x05, 2, 12, 250)]),
        ],
        [
            new ExtraDevice("0001:01:00.0", 0x14e4, 0x1657, 0x020000, 1, "tg3"),
            new ExtraDevice("0001:01:00.1", 0x14e4, 0x1657, 0x020000, 1, "tg3"),
        ]);

    /// <summary>The 4-GPU AC922 on a 5.x kernel: 3 links per GPU, one compound IOMMU group per socket, old phandles.</summary>
    public static HostLayout Witherspoon4GpuCompound { get; } = new(
        "witherspoon-4gpu-compound",
        "IBM AC922 with 4 V100 SXM2, 3 NVLink2 bridges per GPU, one compound IOMMU group per socket (Linux 5.0-5.12)",
        "powernv",
        "5.10.0-28-powerpc64le",
        [
            new ChipLayout(0, 0x0004, 0x0006, Chip0NpuMmio, 8, Chip0GpuRam, 0,
                [new GpuLayout(0x04, 3, 7, 255), new GpuLayout(0x05, 3, 7, 254)]),
            new ChipLayout(8, 0x0035, 0x0007, Chip8NpuMmio, 8, Chip8GpuRam, 8,
                [new GpuLayout(0x03, 3, 8, 253), new GpuLayout(0x04, 3, 8, 252)]),
        ],
        [new ExtraDevice("0001:01:00.0", 0x14e4, 0x1657, 0x020000, 1, "tg3")],
        LegacyPhandles: true);

    /// <summary>An x86 server with a PCIe V100: no device tree, nothing for LibvirtNvlink to do.</summary>
    public static HostLayout X86PcieV100 { get; } = new(
        "x86-pcie-v100",
        "x86_64 server with one PCIe V100 (10de:1db4) and a NIC; no device tree, no NVLink2",
        "x86",
        "6.1.0-25-amd64",
        [],
        [
            new ExtraDevice("0000:00:00.0", 0x8086, 0x2020, 0x060000, 0, null),
            new ExtraDevice("0000:3b:00.0", 0x10de, 0x1db4, 0x030200, 30, "vfio-pci"),
            new ExtraDevice("0000:5e:00.0", 0x8086, 0x1572, 0x020000, 40, "i40e"),
        ]);

    /// <summary>A 6-GPU host with one defect per GPU, so every host finding has a real example.</summary>
    public static HostLayout WitherspoonBroken { get; } = new(
        "witherspoon-broken",
        "A 6-GPU AC922 with something wrong around every GPU (see docs/simulated-hosts.md)",
        "powernv",
        "5.4.0-91-generic",
        [
            new ChipLayout(0, 0x0004, 0x0006, Chip0NpuMmio, 8, Chip0GpuRam, 0,
            [
                new GpuLayout(0x04, 2, 4, 255, Defects: [GpuDefect.MissingNvlinkSpeedOnLink1]),
                new GpuLayout(0x05, 2, 5, 254, BridgeIommuGroup: 15, Defects: [GpuDefect.BridgeMissingFromPciLink1]),
                new GpuLayout(0x06, 2, 6, 253, Driver: "nvidia", Defects: [GpuDefect.TgtMismatchOnLink1, GpuDefect.GpuRamOnline]),
            ]),
            new ChipLayout(8, 0x0035, 0x0007, Chip8NpuMmio, 1, Chip8GpuRam, 8,
            [
                new GpuLayout(0x03, 2, 10, 252, BridgeDriver: "ibmnpu", Defects: [GpuDefect.GpuNotListingLink1]),
                new GpuLayout(0x04, 2, 11, 251, Defects: [GpuDefect.TruncatedTgtOnLink0]),
                new GpuLayout(0x05, 2, 11, 250, Defects: [GpuDefect.DanglingOfNodeOnLink0, GpuDefect.OfNodeLoopOnLink1]),
            ]),
        ]);

    /// <summary>
    /// Host SMMUv3 instances by their /sys/class/iommu names, in the kernel's form ("smmu3.%pa" of the MMIO base). The
    /// bases are stand-ins, not read from a machine's IORT: two per socket, the second socket's 16 TiB above the first's.
    /// </summary>
    private const string Socket0SmmuA = "smmu3.0x0000000015000000";
    private const string Socket0SmmuB = "smmu3.0x0000000016000000";
    private const string Socket1SmmuA = "smmu3.0x0000100015000000";
    private const string Socket1SmmuB = "smmu3.0x0000100016000000";

    private const ulong MiB = 1UL << 20;
    private const ulong GiB = 1UL << 30;

    /// <summary>
    /// A GH200 superchip: one Grace CPU node, the GPU bound to nvgrace-gpu-vfio-pci, and the firmware's 8
    /// generic-initiator nodes (1-8). BAR2 is the 1 GiB uncached carve-out, BAR4 the 96 GB HBM rounded up to 128 GiB.
    /// </summary>
    public static HostLayout GraceHopper1Gpu { get; } = new(
        "grace-hopper-1gpu",
        "NVIDIA GH200 superchip: 1 Grace CPU node, 1 H100 (10de:2342) on nvgrace_gpu_vfio_pci, 8 generic-initiator NUMA nodes",
        "grace",
        "6.8.0-1013-nvidia-64k",
        [],
        [new ExtraDevice("0000:01:00.0", 0x15b3, 0x1021, 0x020000, 1, "mlx5_core")],
        Grace: new GraceLayout(1, 8,
            [new GraceGpuLayout("0009:01:00.0", 0x2342, 0, 9, GraceGpu.VariantDriver, [16 * MiB, 1 * GiB, 128 * GiB], Smmu: Socket0SmmuB)]));

    /// <summary>
    /// A GB200 compute tray: 2 Grace CPU nodes, 4 Blackwell GPUs (2 per socket), 8 generic-initiator nodes per GPU
    /// (2-33). GPU 3 is still on the host's nvidia driver and GPU 2 on plain vfio-pci, as after a half-done setup. The two
    /// GPUs of a socket sit behind one host SMMUv3 (two SMMUs in all), so a guest with both needs them under one vSMMU.
    /// </summary>
    public static HostLayout GraceBlackwell4Gpu { get; } = new(
        "grace-blackwell-4gpu",
        "NVIDIA GB200 tray: 2 Grace CPU nodes, 4 B200 (10de:2941), 8 generic-initiator NUMA nodes per GPU; GPU 2 on vfio-pci, GPU 3 on nvidia",
        "grace",
        "6.11.0-1004-nvidia-64k",
        [],
        [new ExtraDevice("0000:03:00.0", 0x15b3, 0x1021, 0x020000, 3, "mlx5_core")],
        Grace: new GraceLayout(2, 8,
        [
            new GraceGpuLayout("0008:01:00.0", 0x2941, 0, 8, GraceGpu.VariantDriver, [64 * MiB, 0, 256 * GiB], Smmu: Socket0SmmuB),
            new GraceGpuLayout("0009:01:00.0", 0x2941, 0, 9, GraceGpu.VariantDriver, [64 * MiB, 0, 256 * GiB], Smmu: Socket0SmmuB),
            new GraceGpuLayout("0018:01:00.0", 0x2941, 1, 18, "vfio-pci", [64 * MiB, 0, 256 * GiB], Smmu: Socket1SmmuB),
            new GraceGpuLayout("0019:01:00.0", 0x2941, 1, 19, "nvidia", [64 * MiB, 0, 256 * GiB], Smmu: Socket1SmmuB),
        ]));

    /// <summary>
    /// A GB200 tray where GPU 0019:06:00.0 stays on the host's nvidia driver with its memory online, so its first
    /// generic-initiator node (26) has memory: the memory-less runs (2-25, 27-33) no longer show each GPU's block, and
    /// only the firmware's SRAT (generic initiators named by PCI address, proximity domains from 16) tells them. Each GPU
    /// sits behind its own host SMMUv3.
    /// </summary>
    public static HostLayout GraceBlackwell4GpuMixed { get; } = new(
        "grace-blackwell-4gpu-mixed",
        "NVIDIA GB200 tray: 4 B200 (10de:2941) at bus 06, 8 generic-initiator nodes each; GPU 0019:06:00.0 on nvidia with its memory online (node 26)",
        "grace",
        "6.11.0-1004-nvidia-64k",
        [],
        [new ExtraDevice("0000:03:00.0", 0x15b3, 0x1021, 0x020000, 3, "mlx5_core")],
        Grace: new GraceLayout(2, 8,
        [
            new GraceGpuLayout("0008:06:00.0", 0x2941, 0, 8, GraceGpu.VariantDriver, [64 * MiB, 0, 256 * GiB], Smmu: Socket0SmmuA),
            new GraceGpuLayout("0009:06:00.0", 0x2941, 0, 9, GraceGpu.VariantDriver, [64 * MiB, 0, 256 * GiB], Smmu: Socket0SmmuB),
            new GraceGpuLayout("0018:06:00.0", 0x2941, 1, 18, GraceGpu.VariantDriver, [64 * MiB, 0, 256 * GiB], Smmu: Socket1SmmuA),
            new GraceGpuLayout("0019:06:00.0", 0x2941, 1, 19, "nvidia", [64 * MiB, 0, 256 * GiB], MemoryOnHost: true, Smmu: Socket1SmmuB),
        ], GiProximityBase: 16));

    public static IReadOnlyList<HostLayout> All { get; } =
        [Witherspoon6Gpu, Witherspoon4GpuCompound, X86PcieV100, WitherspoonBroken, GraceHopper1Gpu, GraceBlackwell4Gpu, GraceBlackwell4GpuMixed];

    public static HostLayout? Find(string name) => All.FirstOrDefault(l => l.Name == name);
}
