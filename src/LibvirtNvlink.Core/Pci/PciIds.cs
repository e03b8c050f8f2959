namespace LibvirtNvlink.Pci;

/// <summary>The vendor/device IDs the product cares about.</summary>
public static class PciIds
{
    public const int VendorNvidia = 0x10de;
    public const int VendorIbm = 0x1014;

    /// <summary>Tesla V100 SXM2 (GV100GL) — the only GPU the kernel's NVLink2 subdriver ever handled.</summary>
    public const int DeviceV100Sxm2 = 0x1db1;

    /// <summary>POWER9 NPU2 emulated NVLink bridge, one PCI function per link.</summary>
    public const int DeviceNpu2Bridge = 0x04ea;

    /// <summary>Grace Hopper (GH200) and Grace Blackwell (GB200, GB300) GPUs handled by nvgrace-gpu-vfio-pci.</summary>
    public static IReadOnlyList<int> GraceGpuDevices { get; } = [0x2342, 0x2345, 0x2348, 0x2941, 0x31c2];

    public static bool IsNv2GpuId(int vendor, int device) => vendor == VendorNvidia && device == DeviceV100Sxm2;

    public static bool IsGraceGpuId(int vendor, int device) => vendor == VendorNvidia && GraceGpuDevices.Contains(device);

    /// <summary>Any device the hook must look at: NVLink2 GPUs and bridges, Grace GPUs.</summary>
    public static bool IsOfInterest(int vendor, int device) =>
        IsNv2GpuId(vendor, device) || IsNpuBridgeId(vendor, device) || IsGraceGpuId(vendor, device);

    public static bool IsNpuBridgeId(int vendor, int device) => vendor == VendorIbm && device == DeviceNpu2Bridge;
}
