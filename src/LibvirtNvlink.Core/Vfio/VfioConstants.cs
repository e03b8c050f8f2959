namespace LibvirtNvlink.Vfio;

/// <summary>
/// linux/vfio.h, checked against the C headers by a test that compiles a program with gcc
/// (tests/…/VfioAbiTests). ioctls are _IO(';', 100 + n): the direction field is _IOC_NONE, which is 0 at bit 30
/// on x86/arm64 but 1 at bit 29 on powerpc.
/// </summary>
public static class VfioConstants
{
    public const uint VfioType = ';';
    public const uint VfioBase = 100;

    public const uint ApiVersion = 0;
    public const uint GroupFlagsViable = 1;
    public const uint GroupFlagsContainerSet = 2;
    public const uint Type1v2Iommu = 3;
    public const uint SpaprTceIommu = 2;
    public const uint SpaprTceV2Iommu = 7;

    /// <summary>BAR0–5, ROM, config, VGA: device-specific regions start at this index.</summary>
    public const uint PciNumRegions = 9;

    /// <summary>VFIO_PCI_BAR0_REGION_INDEX … VFIO_PCI_BAR5_REGION_INDEX are regions 0–5.</summary>
    public const int PciBarRegions = 6;

    public const uint RegionInfoFlagRead = 1;
    public const uint RegionInfoFlagWrite = 2;
    public const uint RegionInfoFlagMmap = 4;
    public const uint RegionInfoFlagCaps = 8;

    public const ushort RegionInfoCapSparseMmap = 1;
    public const ushort RegionInfoCapType = 2;
    public const ushort RegionInfoCapNvlink2Ssatgt = 4;
    public const ushort RegionInfoCapNvlink2Lnkspd = 5;

    public const uint RegionTypePciVendorType = 1u << 31;
    public const uint RegionSubtypeNvidiaNvlink2Ram = 1;
    public const uint RegionSubtypeIbmNvlink2Atsd = 1;

    public const int GroupStatusSize = 8;
    public const int DeviceInfoMinSize = 16;
    public const int RegionInfoSize = 32;
    public const int CapHeaderSize = 8;

    public enum Request : uint
    {
        GetApiVersion = 0,
        CheckExtension = 1,
        SetIommu = 2,
        GroupGetStatus = 3,
        GroupSetContainer = 4,
        GroupUnsetContainer = 5,
        GroupGetDeviceFd = 6,
        DeviceGetInfo = 7,
        DeviceGetRegionInfo = 8,
    }

    /// <summary>The ioctl number of a VFIO request on the given architecture family.</summary>
    public static uint Ioctl(Request request, bool powerpc)
    {
        var number = (VfioType << 8) | (VfioBase + (uint)request);
        return powerpc ? (1u << 29) | number : number;
    }

    public static bool IsPowerPc => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is
        System.Runtime.InteropServices.Architecture.Ppc64le;
}
