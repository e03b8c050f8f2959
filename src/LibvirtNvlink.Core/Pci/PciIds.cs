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

    public static bool IsNv2GpuId(int vendor, int device) => vendor == VendorNvidia && device == DeviceV100Sxm2;

    public static bool IsNpuBridgeId(int vendor, int device) => vendor == VendorIbm && device == DeviceNpu2Bridge;
}
