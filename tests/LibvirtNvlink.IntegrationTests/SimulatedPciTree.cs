using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A simulated host written for a private libvirtd, and the bind mounts that show it to the daemon: its PCI devices
/// beside the real ones, its IOMMU groups and its /dev/vfio stand-ins. Targets are the paths the daemon sees.
/// </summary>
public static class SimulatedPciTree
{
    /// <summary>Writes <paramref name="layout"/> under <paramref name="work"/>/host and returns the host root and the binds.</summary>
    public static (string Host, List<(string Source, string Target)> Binds) Write(HostLayout layout, string work)
    {
        var host = Path.Combine(work, "host");
        SimulatedHostWriter.Write(layout, host);

        // /sys/bus/pci/devices as libvirtd will see it: absolute links, real devices to their real directories and
        // simulated ones into the simulated tree, whose own relative links (iommu_group, driver, of_node) then
        // resolve inside it.
        var devices = Path.Combine(work, "pci-devices");
        Directory.CreateDirectory(devices);
        foreach (var real in Directory.EnumerateFileSystemEntries("/sys/bus/pci/devices"))
        {
            File.CreateSymbolicLink(Path.Combine(devices, Path.GetFileName(real)), new FileInfo(real).ResolveLinkTarget(true)!.FullName);
        }
        foreach (var sim in Directory.EnumerateFileSystemEntries(Path.Combine(host, "sys/bus/pci/devices")))
        {
            var link = Path.Combine(devices, Path.GetFileName(sim));
            if (!File.Exists(link) && !Directory.Exists(link))
            {
                File.CreateSymbolicLink(link, new FileInfo(sim).ResolveLinkTarget(true)!.FullName);
            }
        }
        return (host, [
            (devices, "/sys/bus/pci/devices"),
            (Path.Combine(host, "sys/kernel/iommu_groups"), "/sys/kernel/iommu_groups"),
            (Path.Combine(host, "dev/vfio"), "/dev/vfio"),
        ]);
    }
}
