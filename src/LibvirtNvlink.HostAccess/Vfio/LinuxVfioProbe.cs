using System.Buffers.Binary;
using System.Text;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>
/// Asks the kernel's VFIO driver what it exposes: opens the container and /dev/vfio/N, checks the group is viable,
/// attaches it to a container with an IOMMU model (sPAPR TCE v2 on POWER), gets each device fd and reads every
/// device-specific region with its capability chain. Everything is closed again before returning, so QEMU can open
/// the group afterwards.
/// </summary>
public sealed class LinuxVfioProbe(HostRoot root) : IVfioProbe
{
    private readonly bool _ppc = VfioConstants.IsPowerPc;

    /// <summary>Whether /dev/vfio/N is a VFIO group character device (a simulated host has plain files).</summary>
    public bool IsGroupDevice(int group) => root.FileType($"/dev/vfio/{group}") == LibcInterop.S_IFCHR;

    public VfioGroupProbe Probe(int group, IReadOnlyList<string> devices, bool withBarSizes = false)
    {
        var containerPath = root.Map("/dev/vfio/vfio");
        var groupPath = root.Map($"/dev/vfio/{group}");
        FileDescriptorHandle? container = null, groupFd = null;
        try
        {
            container = LibcInterop.OpenDevice(containerPath, readWrite: true);
            var api = LibcInterop.IoctlValue(container, Req(VfioConstants.Request.GetApiVersion), 0, "VFIO_GET_API_VERSION");
            if (api != VfioConstants.ApiVersion) return new VfioGroupProbe(group, false, [], $"VFIO API version {api}, expected 0");
            groupFd = LibcInterop.OpenDevice(groupPath, readWrite: true);
            Span<byte> status = stackalloc byte[VfioConstants.GroupStatusSize];
            BinaryPrimitives.WriteUInt32LittleEndian(status, VfioConstants.GroupStatusSize);
            LibcInterop.IoctlBuffer(groupFd, Req(VfioConstants.Request.GroupGetStatus), status, "VFIO_GROUP_GET_STATUS");
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(status[4..]);
            if ((flags & VfioConstants.GroupFlagsViable) == 0) return new VfioGroupProbe(group, false, [], null);

            Span<byte> fdArg = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(fdArg, (int)container.DangerousGetHandle());
            LibcInterop.IoctlBuffer(groupFd, Req(VfioConstants.Request.GroupSetContainer), fdArg, "VFIO_GROUP_SET_CONTAINER");
            var iommu = ChooseIommu(container);
            if (iommu is null) return new VfioGroupProbe(group, true, [], "the VFIO container supports no IOMMU model this tool knows (sPAPR TCE, Type1)");
            LibcInterop.IoctlValue(container, Req(VfioConstants.Request.SetIommu), (int)iommu.Value, "VFIO_SET_IOMMU");

            var results = new List<VfioDeviceRegions>();
            foreach (var device in devices) results.Add(ReadDevice(groupFd, device, withBarSizes));
            return new VfioGroupProbe(group, true, results, null);
        }
        catch (ErrnoException e) when (e.Errno == 16)
        {
            return new VfioGroupProbe(group, true, [], $"{groupPath} is busy: another process (QEMU of another guest?) holds the group");
        }
        catch (ErrnoException e)
        {
            return new VfioGroupProbe(group, true, [], e.Message);
        }
        finally
        {
            // Closed before returning, so QEMU can open the group.
            groupFd?.Dispose();
            container?.Dispose();
        }
    }

    private uint Req(VfioConstants.Request r) => VfioConstants.Ioctl(r, _ppc);

    private uint? ChooseIommu(FileDescriptorHandle container)
    {
        uint[] candidates = [VfioConstants.SpaprTceV2Iommu, VfioConstants.SpaprTceIommu, VfioConstants.Type1v2Iommu];
        foreach (var c in candidates)
        {
            if (LibcInterop.IoctlValue(container, Req(VfioConstants.Request.CheckExtension), (int)c, "VFIO_CHECK_EXTENSION") > 0) return c;
        }
        return null;
    }

    private VfioDeviceRegions ReadDevice(FileDescriptorHandle groupFd, string device, bool withBarSizes)
    {
        var name = Encoding.ASCII.GetBytes(device + "\0");
        using var fd = new FileDescriptorHandle(LibcInterop.IoctlBuffer(groupFd, Req(VfioConstants.Request.GroupGetDeviceFd), name, $"VFIO_GROUP_GET_DEVICE_FD {device}"));
        Span<byte> info = stackalloc byte[VfioConstants.DeviceInfoMinSize];
        BinaryPrimitives.WriteUInt32LittleEndian(info, VfioConstants.DeviceInfoMinSize);
        LibcInterop.IoctlBuffer(fd, Req(VfioConstants.Request.DeviceGetInfo), info, $"VFIO_DEVICE_GET_INFO {device}");
        var numRegions = BinaryPrimitives.ReadUInt32LittleEndian(info[8..]);
        var barRegions = new List<VfioRegionInfo>();
        for (var index = 0u; index < (withBarSizes ? VfioConstants.PciBarRegions : 0) && index < numRegions; index++)
        {
            barRegions.Add(VfioRegionInfo.Parse(ReadRegion(fd, index, device)));
        }
        var regions = new List<VfioRegionInfo>();
        for (var index = VfioConstants.PciNumRegions; index < numRegions; index++)
        {
            regions.Add(VfioRegionInfo.Parse(ReadRegion(fd, index, device)));
        }
        return new VfioDeviceRegions(device, numRegions, regions) { BarSizes = [.. barRegions.Select(r => r.Size)], BarRegions = barRegions };
    }

    /// <summary>Asks with argsz 32; the kernel answers with the argsz its capability chain needs, then we ask again.</summary>
    private byte[] ReadRegion(FileDescriptorHandle fd, uint index, string device)
    {
        var size = VfioConstants.RegionInfoSize;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var buffer = new byte[size];
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), index);
            LibcInterop.IoctlBuffer(fd, Req(VfioConstants.Request.DeviceGetRegionInfo), buffer, $"VFIO_DEVICE_GET_REGION_INFO {device} region {index}");
            var needed = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            if (needed <= size) return buffer;
            size = Math.Min(needed, 64 * 1024);
        }
        throw new IOException($"{device} region {index}: the kernel keeps asking for a larger buffer");
    }
}
