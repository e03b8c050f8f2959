using System.Security.Cryptography;
using System.Text;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// What a TCG aarch64 guest boots to report its NUMA layout: an arm64 kernel (Debian unstable's cloud kernel, or one
/// built for 64 NUMA nodes by scripts/guest-kernel.sh), and an initramfs of a static busybox whose /init prints, on the
/// serial console, the node masks, every node's CPUs, memory and distances, the guest's SRAT (hex) and its PCI devices (with their NUMA node),
/// then powers off. Built once and cached on the machine under /var/cache/libvirt-nvlink/guest/KEY, KEY hashing the
/// kernel, busybox and /init.
/// </summary>
public static class GraceGuestImage
{
    /// <param name="MaxNumaNodes">2^CONFIG_NODES_SHIFT of the kernel: how many NUMA nodes its guest can have.</param>
    public sealed record Files(string? Kernel, string? Initrd, string Reason, int MaxNumaNodes = 0)
    {
        public bool Available => Kernel is not null;
    }

    /// <summary>Lines start with "LVN " so they stand out of the kernel's console messages.</summary>
    public const string Init = """
        #!/bin/busybox sh
        /bin/busybox mkdir -p /usr/bin /sbin /usr/sbin
        /bin/busybox --install -s
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        echo "LVN-BEGIN"
        for f in possible online has_cpu has_memory has_generic_initiator; do echo "LVN $f=$(cat /sys/devices/system/node/$f)"; done
        for d in /sys/devices/system/node/node*; do
          echo "LVN ${d##*/} cpulist=$(cat $d/cpulist) memtotal_kb=$(awk '/MemTotal/ {print $4}' $d/meminfo) distance=$(cat $d/distance)"
        done
        for d in /sys/bus/pci/devices/*; do echo "LVN pci ${d##*/} $(cat $d/vendor):$(cat $d/device) numa=$(cat $d/numa_node)"; done
        echo "LVN srat=$(od -An -v -tx1 /sys/firmware/acpi/tables/SRAT | tr -d ' \n')"
        echo "LVN-END"
        poweroff -f

        """;

    private static readonly Lazy<Files> DebianKernel = new(BuildWithDebiansKernel);

    private static readonly Lazy<Files> ManyNodesKernel = new(BuildWithManyNodesKernel);

    /// <summary>Debian unstable's arm64 cloud kernel: what a Grace guest runs, but built for 16 NUMA nodes.</summary>
    public static Files Get() => DebianKernel.Value;

    /// <summary>
    /// The kernel scripts/guest-kernel.sh builds from Debian's linux-source-6.1 with CONFIG_NODES_SHIFT=6, for layouts
    /// with more than 16 nodes (the 4-GPU GB200 tray's has 34).
    /// </summary>
    public static Files WithManyNodes() => ManyNodesKernel.Value;

    private static Files BuildWithDebiansKernel()
    {
        var root = DebianRoot.SidArm64Guest;
        if (!root.Available) return new(null, null, root.Reason);
        var modules = Path.Combine(root.Path!, "usr", "lib", "modules");
        var kernel = Directory.Exists(modules) ? Directory.EnumerateFiles(modules, "vmlinuz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).LastOrDefault() : null;
        if (kernel is null) return new(null, null, $"an arm64 kernel in {root.Reason} (none found)");
        return Assemble(kernel, Path.Combine(Path.GetDirectoryName(kernel)!, "config"));
    }

    private static Files BuildWithManyNodesKernel()
    {
        if (!Processes.IsRoot) return new(null, null, "an arm64 guest kernel with 64 NUMA nodes (scripts/guest-kernel.sh needs root)");
        // A first build unpacks the kernel source and compiles a tinyconfig kernel: minutes on two busy cores.
        var r = Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "guest-kernel.sh"), [], timeoutSeconds: 3600);
        var kernel = r.Stdout.Trim();
        return r.ExitCode == 0 && File.Exists(kernel)
            ? Assemble(kernel, Path.Combine(Path.GetDirectoryName(kernel)!, "config"))
            : new(null, null, $"an arm64 guest kernel with 64 NUMA nodes (scripts/guest-kernel.sh failed: {r.Stderr.Trim()})");
    }

    /// <summary>The kernel and an initramfs of busybox and /init, cached by the content of all three.</summary>
    private static Files Assemble(string kernel, string kernelConfig)
    {
        var root = DebianRoot.SidArm64Guest;
        var busybox = root.Available ? Path.Combine(root.Path!, "usr", "bin", "busybox") : null;
        if (busybox is null || !File.Exists(busybox)) return new(null, null, $"a static busybox in {root.Reason}");
        var shift = File.ReadLines(kernelConfig)
            .Where(l => l.StartsWith("CONFIG_NODES_SHIFT=", StringComparison.Ordinal)).Select(l => int.Parse(l["CONFIG_NODES_SHIFT=".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0).First();

        var busyboxBytes = File.ReadAllBytes(busybox);
        var key = Convert.ToHexStringLower(SHA256.HashData(
            [.. SHA256.HashData(File.ReadAllBytes(kernel)), .. SHA256.HashData(busyboxBytes), .. SHA256.HashData(Encoding.UTF8.GetBytes(Init))]))[..16];
        var dir = Path.Combine("/var/cache/libvirt-nvlink/guest", key);
        var files = new Files(Path.Combine(dir, "vmlinuz"), Path.Combine(dir, "initrd.img"), $"{kernel} with a busybox initramfs, cached in {dir}", 1 << shift);
        if (File.Exists(files.Initrd)) return files;

        // Built beside the cache entry and renamed into place, so a half-written entry never counts.
        var temp = Directory.CreateDirectory(dir + ".tmp-" + Environment.ProcessId).FullName;
        File.Copy(kernel, Path.Combine(temp, "vmlinuz"), overwrite: true);
        using (var cpio = File.Create(Path.Combine(temp, "initrd.img")))
        {
            var writer = new NewcArchive(cpio);
            foreach (var d in new[] { "bin", "dev", "proc", "sys" }) writer.Directory(d);
            // The kernel opens /dev/console for init's output before anything is mounted.
            writer.CharacterDevice("dev/console", 5, 1);
            writer.File("bin/busybox", busyboxBytes, executable: true);
            writer.File("init", Encoding.UTF8.GetBytes(Init.ReplaceLineEndings("\n")), executable: true);
            writer.Finish();
        }
        try
        {
            Directory.Move(temp, dir);
        }
        catch (IOException) when (File.Exists(files.Initrd))
        {
            // Another test run won the race; its copy is the same content.
            Directory.Delete(temp, recursive: true);
        }
        return files;
    }
}
