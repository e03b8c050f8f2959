using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Preflight;

namespace LibvirtNvlink.Tests;

public class PlatformReaderTests
{
    [Fact]
    public void The_QEMU_and_libvirt_versions_come_from_the_matching_libvirt_capability_cache_file()
    {
        var dir = TestRunTemp.NewDirectory("caps-");
        var flags = string.Concat(Enumerable.Range(0, 2000).Select(i => $"  <flag name='f{i}'/>\n"));
        File.WriteAllText(Path.Combine(dir, "a.xml"), $"<qemuCaps>\n  <emulator>/usr/bin/qemu-system-x86_64</emulator>\n  <selfvers>9000000</selfvers>\n{flags}  <version>8002000</version>\n</qemuCaps>\n");
        File.WriteAllText(Path.Combine(dir, "b.xml"), $"<qemuCaps>\n  <emulator>/usr/bin/qemu-system-ppc64</emulator>\n  <qemuctime>1</qemuctime>\n  <selfvers>9000000</selfvers>\n{flags}  <version>7002022</version>\n</qemuCaps>\n");
        var (qemu, libvirt, micro) = PlatformReader.ReadLibvirtCache(dir, "/usr/bin/qemu-system-ppc64");
        Assert.Equal((7, 2), qemu);
        Assert.Equal(9000000UL, libvirt);
        Assert.Equal(22, micro);
        Assert.Equal((null, null, null), PlatformReader.ReadLibvirtCache(dir, "/usr/bin/qemu-system-aarch64"));
        Assert.Equal((null, null, null), PlatformReader.ReadLibvirtCache("/nonexistent", "/usr/bin/qemu-system-ppc64"));
    }

    [Theory]
    [InlineData("Max locked memory         65536                65536                bytes", 65536UL)]
    [InlineData("Max locked memory         unlimited            unlimited            bytes", ulong.MaxValue)]
    public void Max_locked_memory_is_read_from_proc_limits(string line, ulong expected)
    {
        var limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n" + line + "\n";
        Assert.Equal(expected, PlatformReader.ParseMaxLockedMemory(limits));
    }

    [Theory]
    [InlineData("5.12.0-rc3", 5, 12)]
    [InlineData("4.18.0-147.el8.ppc64le", 4, 18)]
    [InlineData("6.1.0-25-powerpc64le", 6, 1)]
    public void Kernel_releases_parse_to_major_and_minor(string release, int major, int minor)
    {
        Assert.Equal((major, minor), Nv2Preflight.ParseKernel(release));
    }
}
