using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Tests;

/// <summary>Which host SMMUv3 each Grace GPU sits behind, read from its sysfs iommu link, and which GPUs share one.</summary>
public sealed class SmmuDiscoveryTests
{
    /// <summary>"smmu: gpu gpu" per group, in the topology's order.</summary>
    private static IReadOnlyList<string> Groups(HostLayout layout) =>
        [.. SimulatedHosts.Topology(layout).GraceSmmuGroups.Select(g => $"{g.Smmu}: {string.Join(' ', g.Gpus.Select(x => x.Address))}")];

    [Fact]
    public void The_GH200_GPU_sits_behind_one_SMMUv3_of_its_own()
    {
        Assert.Equal(["smmu3.0x0000000016000000: 0009:01:00.0"], Groups(BuiltInLayouts.GraceHopper1Gpu));
    }

    [Fact]
    public void The_GB200_tray_has_two_SMMUs_each_shared_by_the_two_GPUs_of_a_socket()
    {
        Assert.Equal(
            ["smmu3.0x0000000016000000: 0008:01:00.0 0009:01:00.0", "smmu3.0x0000100016000000: 0018:01:00.0 0019:01:00.0"],
            Groups(BuiltInLayouts.GraceBlackwell4Gpu));
        // The GPU's CPU node comes with it: the two GPUs of one SMMU are on one socket.
        var host = SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu);
        Assert.All(host.GraceSmmuGroups, g => Assert.Single(g.Gpus.Select(x => x.NumaNode).Distinct()));
    }

    [Fact]
    public void The_mixed_GB200_tray_has_one_SMMU_per_GPU()
    {
        Assert.Equal(
            [
                "smmu3.0x0000000015000000: 0008:06:00.0", "smmu3.0x0000000016000000: 0009:06:00.0",
                "smmu3.0x0000100015000000: 0018:06:00.0", "smmu3.0x0000100016000000: 0019:06:00.0",
            ],
            Groups(BuiltInLayouts.GraceBlackwell4GpuMixed));
    }

    [Fact]
    public void The_simulated_host_lays_out_each_SMMU_as_arm_smmu_v3_registers_it()
    {
        var root = SimulatedHosts.PathOf(BuiltInLayouts.GraceBlackwell4Gpu);
        var cls = Path.Combine(root, "sys/class/iommu/smmu3.0x0000100016000000");
        var instance = Path.Combine(root, "sys/devices/platform/arm-smmu-v3.1.auto/iommu/smmu3.0x0000100016000000");
        Assert.Equal(instance, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(cls)!, new FileInfo(cls).LinkTarget!)));
        Assert.Equal(["0018:01:00.0", "0019:01:00.0"], Directory.GetFileSystemEntries(Path.Combine(instance, "devices")).Select(Path.GetFileName).Order());
        var gpuLink = Path.Combine(root, "sys/bus/pci/devices/0018:01:00.0/iommu");
        Assert.Equal(instance, new DirectoryInfo(Path.Combine(root, "sys/bus/pci/devices/0018:01:00.0")).ResolveLinkTarget(true)!.FullName is var dir
            ? Path.GetFullPath(Path.Combine(dir, new FileInfo(Path.Combine(dir, "iommu")).LinkTarget!)) : null);
        Assert.True(File.Exists(gpuLink + "/../vendor"));
    }

    [Fact]
    public void A_GPU_without_an_iommu_link_or_behind_another_kind_of_IOMMU_has_no_SMMU()
    {
        var root = SimulatedHosts.Fresh(BuiltInLayouts.GraceBlackwell4Gpu);
        var dev = new DirectoryInfo(Path.Combine(root, "sys/bus/pci/devices/0008:01:00.0")).ResolveLinkTarget(true)!.FullName;
        File.Delete(Path.Combine(dev, "iommu"));
        var dev9 = new DirectoryInfo(Path.Combine(root, "sys/bus/pci/devices/0009:01:00.0")).ResolveLinkTarget(true)!.FullName;
        File.Delete(Path.Combine(dev9, "iommu"));
        Directory.CreateDirectory(Path.Combine(root, "sys/devices/virtual/iommu/dmar0"));
        File.CreateSymbolicLink(Path.Combine(dev9, "iommu"), Path.GetRelativePath(dev9, Path.Combine(root, "sys/devices/virtual/iommu/dmar0")));

        var host = HostDiscovery.Discover(new HostRoot(root));
        Assert.Null(host.GraceGpuAt(PciAddress.Parse("0008:01:00.0"))!.Smmu);
        Assert.Null(host.GraceGpuAt(PciAddress.Parse("0009:01:00.0"))!.Smmu);
        Assert.Equal("dmar0", host.Devices[PciAddress.Parse("0009:01:00.0")].IommuInstance);
        Assert.Equal(["smmu3.0x0000100016000000"], host.GraceSmmuGroups.Select(g => g.Smmu));
    }

    [Fact]
    public void A_layout_naming_an_SMMU_in_another_form_is_refused()
    {
        var bad = BuiltInLayouts.GraceHopper1Gpu with
        {
            Grace = BuiltInLayouts.GraceHopper1Gpu.Grace! with
            {
                Gpus = [BuiltInLayouts.GraceHopper1Gpu.Grace!.Gpus[0] with { Smmu = "arm-smmu-v3.0.auto" }],
            },
        };
        var e = Assert.Throws<HostLayoutException>(() => SimulatedHostWriter.Validate(bad));
        Assert.Contains("smmu3.0x0000000016000000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_keeps_the_SMMU_links_dev_iommu_the_VFIO_cdevs_and_the_kernel_config()
    {
        using var dir = new TempDirectory("lvn-smmu-snap-");
        var r = CliRunner.Run(null, "snapshot", "--host-root", SimulatedHosts.PathOf(BuiltInLayouts.GraceBlackwell4Gpu), "-o", dir["snap"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var snap = dir["snap"];
        Assert.True(File.Exists(Path.Combine(snap, "boot/config-6.11.0-1004-nvidia-64k")));
        Assert.True(File.Exists(Path.Combine(snap, "dev/iommu")));
        Assert.True(File.Exists(Path.Combine(snap, "dev/vfio/devices/vfio0")));
        Assert.True(Directory.Exists(Path.Combine(snap, "sys/bus/pci/devices/0008:01:00.0/vfio-dev/vfio0")));
        Assert.Equal("smmu3.0x0000000016000000",
            new DirectoryInfo(Path.Combine(snap, "sys/bus/pci/devices/0008:01:00.0/iommu")).ResolveLinkTarget(true)?.Name);
        var host = HostDiscovery.Discover(new HostRoot(snap));
        Assert.Equal(SimulatedHosts.Topology(BuiltInLayouts.GraceBlackwell4Gpu).GraceSmmuGroups.Select(g => g.Smmu), host.GraceSmmuGroups.Select(g => g.Smmu));
    }
}
