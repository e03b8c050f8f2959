using System.Diagnostics;
using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Tests;

/// <summary>
/// Our VFIO constants, ioctl numbers and struct layouts against the kernel's own headers, compiled with gcc —
/// once with this machine's headers (generic _IO) and once with the ppc64el cross headers (powerpc _IO), the way
/// Tmds.LibC checks its constants.
/// </summary>
public class VfioAbiTests
{
    private const string Program = """
        #include <stdio.h>
        #include <stddef.h>
        #include <linux/vfio.h>
        #define P(name, value) printf("%s=%llu\n", name, (unsigned long long)(value))
        int main(void) {
            P("VFIO_GET_API_VERSION", VFIO_GET_API_VERSION);
            P("VFIO_CHECK_EXTENSION", VFIO_CHECK_EXTENSION);
            P("VFIO_SET_IOMMU", VFIO_SET_IOMMU);
            P("VFIO_GROUP_GET_STATUS", VFIO_GROUP_GET_STATUS);
            P("VFIO_GROUP_SET_CONTAINER", VFIO_GROUP_SET_CONTAINER);
            P("VFIO_GROUP_UNSET_CONTAINER", VFIO_GROUP_UNSET_CONTAINER);
            P("VFIO_GROUP_GET_DEVICE_FD", VFIO_GROUP_GET_DEVICE_FD);
            P("VFIO_DEVICE_GET_INFO", VFIO_DEVICE_GET_INFO);
            P("VFIO_DEVICE_GET_REGION_INFO", VFIO_DEVICE_GET_REGION_INFO);
            P("VFIO_API_VERSION", VFIO_API_VERSION);
            P("VFIO_GROUP_FLAGS_VIABLE", VFIO_GROUP_FLAGS_VIABLE);
            P("VFIO_GROUP_FLAGS_CONTAINER_SET", VFIO_GROUP_FLAGS_CONTAINER_SET);
            P("VFIO_TYPE1v2_IOMMU", VFIO_TYPE1v2_IOMMU);
            P("VFIO_SPAPR_TCE_IOMMU", VFIO_SPAPR_TCE_IOMMU);
            P("VFIO_SPAPR_TCE_v2_IOMMU", VFIO_SPAPR_TCE_v2_IOMMU);
            P("VFIO_PCI_NUM_REGIONS", VFIO_PCI_NUM_REGIONS);
            P("VFIO_PCI_ROM_REGION_INDEX", VFIO_PCI_ROM_REGION_INDEX);
            P("VFIO_REGION_INFO_FLAG_READ", VFIO_REGION_INFO_FLAG_READ);
            P("VFIO_REGION_INFO_FLAG_WRITE", VFIO_REGION_INFO_FLAG_WRITE);
            P("VFIO_REGION_INFO_FLAG_MMAP", VFIO_REGION_INFO_FLAG_MMAP);
            P("VFIO_REGION_INFO_FLAG_CAPS", VFIO_REGION_INFO_FLAG_CAPS);
            P("VFIO_REGION_INFO_CAP_SPARSE_MMAP", VFIO_REGION_INFO_CAP_SPARSE_MMAP);
            P("VFIO_REGION_INFO_CAP_TYPE", VFIO_REGION_INFO_CAP_TYPE);
            P("VFIO_REGION_INFO_CAP_NVLINK2_SSATGT", VFIO_REGION_INFO_CAP_NVLINK2_SSATGT);
            P("VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD", VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD);
            /* (1 << 31) is a negative int in the header; the field it goes into is a __u32. */
            P("VFIO_REGION_TYPE_PCI_VENDOR_TYPE", (unsigned int)VFIO_REGION_TYPE_PCI_VENDOR_TYPE);
            P("VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM", VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM);
            P("VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD", VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD);
            P("sizeof_group_status", sizeof(struct vfio_group_status));
            P("offsetof_device_info_num_regions", offsetof(struct vfio_device_info, num_regions));
            P("offsetof_device_info_num_irqs", offsetof(struct vfio_device_info, num_irqs));
            P("sizeof_region_info", sizeof(struct vfio_region_info));
            P("offsetof_region_info_index", offsetof(struct vfio_region_info, index));
            P("offsetof_region_info_cap_offset", offsetof(struct vfio_region_info, cap_offset));
            P("offsetof_region_info_size", offsetof(struct vfio_region_info, size));
            P("offsetof_region_info_offset", offsetof(struct vfio_region_info, offset));
            P("sizeof_cap_header", sizeof(struct vfio_info_cap_header));
            P("offsetof_cap_type_type", offsetof(struct vfio_region_info_cap_type, type));
            P("offsetof_cap_type_subtype", offsetof(struct vfio_region_info_cap_type, subtype));
            P("offsetof_ssatgt_tgt", offsetof(struct vfio_region_info_cap_nvlink2_ssatgt, tgt));
            P("offsetof_lnkspd_link_speed", offsetof(struct vfio_region_info_cap_nvlink2_lnkspd, link_speed));
            return 0;
        }
        """;

    private const string StatxProgram = """
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <stddef.h>
        #include <fcntl.h>
        #include <sys/stat.h>
        int main(void) {
            printf("sizeof_statx=%zu\noffsetof_stx_mode=%zu\nS_IFMT=%u\nS_IFCHR=%u\n",
                   sizeof(struct statx), offsetof(struct statx, stx_mode), (unsigned)S_IFMT, (unsigned)S_IFCHR);
            return 0;
        }
        """;

    /// <summary>Compiles and runs a C program printing name=value lines (also used by LibvirtErrorAbiTests).</summary>
    internal static Dictionary<string, ulong> Compile(string source, params string[] includeDirs)
    {
        if (!File.Exists("/usr/bin/gcc"))
        {
            Assert.True(Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") != "1", "gcc must be installed");
            Assert.Skip("gcc is not installed; scripts/test.sh installs it");
        }
        var dir = Directory.CreateTempSubdirectory("abi-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "abi.c"), source);
            var args = includeDirs.SelectMany(i => new[] { "-I", i }).Concat(["-o", Path.Combine(dir, "abi"), Path.Combine(dir, "abi.c")]);
            var cc = Run("/usr/bin/gcc", args);
            Assert.True(cc.Code == 0, cc.Output);
            var run = Run(Path.Combine(dir, "abi"), []);
            Assert.Equal(0, run.Code);
            return run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => ulong.Parse(p[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int Code, string Output) Run(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    /// <summary>The header's value is the truth; the message names the constant that drifted.</summary>
    private static void Same(Dictionary<string, ulong> c, string name, ulong ours) =>
        Assert.True(c[name] == ours, $"{name}: linux/vfio.h says {c[name]}, VfioConstants says {ours}");

    private static void AssertMatches(Dictionary<string, ulong> c, bool powerpc)
    {
        Assert.Equal(c["VFIO_GET_API_VERSION"], VfioConstants.Ioctl(VfioConstants.Request.GetApiVersion, powerpc));
        Assert.Equal(c["VFIO_CHECK_EXTENSION"], VfioConstants.Ioctl(VfioConstants.Request.CheckExtension, powerpc));
        Assert.Equal(c["VFIO_SET_IOMMU"], VfioConstants.Ioctl(VfioConstants.Request.SetIommu, powerpc));
        Assert.Equal(c["VFIO_GROUP_GET_STATUS"], VfioConstants.Ioctl(VfioConstants.Request.GroupGetStatus, powerpc));
        Assert.Equal(c["VFIO_GROUP_SET_CONTAINER"], VfioConstants.Ioctl(VfioConstants.Request.GroupSetContainer, powerpc));
        Assert.Equal(c["VFIO_GROUP_UNSET_CONTAINER"], VfioConstants.Ioctl(VfioConstants.Request.GroupUnsetContainer, powerpc));
        Assert.Equal(c["VFIO_GROUP_GET_DEVICE_FD"], VfioConstants.Ioctl(VfioConstants.Request.GroupGetDeviceFd, powerpc));
        Assert.Equal(c["VFIO_DEVICE_GET_INFO"], VfioConstants.Ioctl(VfioConstants.Request.DeviceGetInfo, powerpc));
        Assert.Equal(c["VFIO_DEVICE_GET_REGION_INFO"], VfioConstants.Ioctl(VfioConstants.Request.DeviceGetRegionInfo, powerpc));
        Same(c, "VFIO_API_VERSION", VfioConstants.ApiVersion);
        Same(c, "VFIO_GROUP_FLAGS_VIABLE", VfioConstants.GroupFlagsViable);
        Same(c, "VFIO_GROUP_FLAGS_CONTAINER_SET", VfioConstants.GroupFlagsContainerSet);
        Same(c, "VFIO_TYPE1v2_IOMMU", VfioConstants.Type1v2Iommu);
        Same(c, "VFIO_SPAPR_TCE_IOMMU", VfioConstants.SpaprTceIommu);
        Same(c, "VFIO_SPAPR_TCE_v2_IOMMU", VfioConstants.SpaprTceV2Iommu);
        Same(c, "VFIO_PCI_NUM_REGIONS", VfioConstants.PciNumRegions);
        // The BAR regions are 0 up to, not including, the ROM's.
        Same(c, "VFIO_PCI_ROM_REGION_INDEX", (uint)VfioConstants.PciBarRegions);
        Same(c, "VFIO_REGION_INFO_FLAG_READ", VfioConstants.RegionInfoFlagRead);
        Same(c, "VFIO_REGION_INFO_FLAG_WRITE", VfioConstants.RegionInfoFlagWrite);
        Same(c, "VFIO_REGION_INFO_FLAG_MMAP", VfioConstants.RegionInfoFlagMmap);
        Same(c, "VFIO_REGION_INFO_FLAG_CAPS", VfioConstants.RegionInfoFlagCaps);
        Same(c, "VFIO_REGION_INFO_CAP_SPARSE_MMAP", VfioConstants.RegionInfoCapSparseMmap);
        Same(c, "VFIO_REGION_INFO_CAP_TYPE", VfioConstants.RegionInfoCapType);
        Same(c, "VFIO_REGION_INFO_CAP_NVLINK2_SSATGT", VfioConstants.RegionInfoCapNvlink2Ssatgt);
        Same(c, "VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD", VfioConstants.RegionInfoCapNvlink2Lnkspd);
        Same(c, "VFIO_REGION_TYPE_PCI_VENDOR_TYPE", VfioConstants.RegionTypePciVendorType);
        Same(c, "VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM", VfioConstants.RegionSubtypeNvidiaNvlink2Ram);
        Same(c, "VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD", VfioConstants.RegionSubtypeIbmNvlink2Atsd);
        // The layouts VfioRegionInfo.Parse and LinuxVfioProbe read and write by offset.
        Assert.Equal((ulong)VfioConstants.GroupStatusSize, c["sizeof_group_status"]);
        Assert.Equal((8UL, 12UL), (c["offsetof_device_info_num_regions"], c["offsetof_device_info_num_irqs"]));
        Assert.Equal((ulong)VfioConstants.RegionInfoSize, c["sizeof_region_info"]);
        Assert.Equal((8UL, 12UL, 16UL, 24UL), (c["offsetof_region_info_index"], c["offsetof_region_info_cap_offset"], c["offsetof_region_info_size"], c["offsetof_region_info_offset"]));
        Assert.Equal((ulong)VfioConstants.CapHeaderSize, c["sizeof_cap_header"]);
        Assert.Equal((8UL, 12UL, 8UL, 8UL), (c["offsetof_cap_type_type"], c["offsetof_cap_type_subtype"], c["offsetof_ssatgt_tgt"], c["offsetof_lnkspd_link_speed"]));
    }

    [Fact]
    public void Constants_and_layouts_match_this_machines_linux_vfio_h()
    {
        AssertMatches(Compile(Program), powerpc: false);
    }

    [Fact]
    public void Ioctl_numbers_match_the_powerpc_headers()
    {
        const string cross = "/usr/powerpc64le-linux-gnu/include";
        if (!Directory.Exists(cross))
        {
            Assert.True(Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") != "1", "linux-libc-dev-ppc64el-cross must be installed");
            Assert.Skip("linux-libc-dev-ppc64el-cross is not installed; scripts/test.sh installs it");
        }
        var c = Compile(Program, cross);
        Assert.Equal(0x20003B67UL, c["VFIO_GROUP_GET_STATUS"]);
        AssertMatches(c, powerpc: true);
    }

    [Fact]
    public void Statx_layout_matches_glibc()
    {
        var c = Compile(StatxProgram);
        Assert.Equal((ulong)LibcInterop.StatxSize, c["sizeof_statx"]);
        Assert.Equal((ulong)LibcInterop.StatxModeOffset, c["offsetof_stx_mode"]);
        Assert.Equal((ulong)LibcInterop.S_IFMT, c["S_IFMT"]);
        Assert.Equal((ulong)LibcInterop.S_IFCHR, c["S_IFCHR"]);
    }
}
