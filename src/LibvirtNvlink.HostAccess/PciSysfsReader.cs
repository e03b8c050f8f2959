using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess;

/// <summary>Reads /sys/bus/pci/devices into <see cref="PciDevice"/> records; read problems become findings.</summary>
public static class PciSysfsReader
{
    public const string DevicesPath = "/sys/bus/pci/devices";

    public static IReadOnlyList<PciDevice> ReadAll(HostRoot root, List<Finding> findings)
    {
        var dtBase = DeviceTreeBaseRealPath(root);
        var devices = new List<PciDevice>();
        foreach (var name in root.ListNames(DevicesPath))
        {
            if (!PciAddress.TryParse(name, out var address, out _)) continue;
            if (Read(root, address, dtBase, findings) is { } d) devices.Add(d);
        }
        return devices;
    }

    /// <summary>Reads one device, or null when it is not present on this host.</summary>
    public static PciDevice? Read(HostRoot root, PciAddress address, string? dtBaseRealPath, List<Finding> findings)
    {
        var dir = $"{DevicesPath}/{address}";
        var at = address.ToString();
        if (!root.Exists(dir))
        {
            if (root.IsSymlink(dir))
            {
                findings.Add(new Finding(Severity.Error, "dangling-link", at,
                    $"{root.Map(dir)} is a symlink to nothing (or a symlink loop); the device cannot be read."));
            }
            return null;
        }
        var vendor = Hex(root, dir + "/vendor", at, findings);
        var device = Hex(root, dir + "/device", at, findings);
        var cls = Hex(root, dir + "/class", at, findings);
        if (vendor is null || device is null) return null;

        int? numa = null;
        if (Text(root, dir + "/numa_node", at, findings) is { } n &&
            int.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nn) && nn >= 0)
        {
            numa = nn;
        }
        var driver = root.LinkName(dir + "/driver");
        int? group = null;
        if (root.LinkName(dir + "/iommu_group") is { } g &&
            int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var gi))
        {
            group = gi;
        }
        var ofNode = dtBaseRealPath is null ? null : OfNode(root, dir + "/of_node", dtBaseRealPath, at, findings);
        return new PciDevice(address, vendor.Value, device.Value, cls ?? 0, driver, group, numa, ofNode);
    }

    public static string? DeviceTreeBaseRealPath(HostRoot root)
    {
        if (!SysfsDeviceTree.IsPresent(root)) return null;
        try { return root.RealPath(SysfsDeviceTree.BasePath); }
        catch (ErrnoException) { return null; }
    }

    private static string? OfNode(HostRoot root, string linkPath, string dtBase, string at, List<Finding> findings)
    {
        if (!root.IsSymlink(linkPath) && !root.Exists(linkPath)) return null;
        string real;
        try
        {
            real = root.RealPath(linkPath);
        }
        catch (ErrnoException e)
        {
            findings.Add(new Finding(Severity.Error, e.Errno == ErrnoException.ELOOP ? "symlink-loop" : "dangling-link", at,
                $"{root.Map(linkPath)} cannot be resolved: {ErrnoException.Describe(e.Errno)}. The device's device-tree " +
                "node is unknown, so its NVLink2 wiring cannot be read."));
            return null;
        }
        if (real == dtBase) return "/";
        if (!real.StartsWith(dtBase + "/", StringComparison.Ordinal))
        {
            findings.Add(new Finding(Severity.Error, "of-node-outside-tree", at,
                $"{root.Map(linkPath)} resolves to {real}, outside the device tree at {dtBase}."));
            return null;
        }
        return real[dtBase.Length..];
    }

    private static string? Text(HostRoot root, string path, string at, List<Finding> findings)
    {
        try
        {
            return root.ReadText(path);
        }
        catch (IOException e)
        {
            findings.Add(new Finding(Severity.Error, "unreadable-file", at, $"Cannot read {root.Map(path)}: {e.Message}"));
            return null;
        }
    }

    private static int? Hex(HostRoot root, string path, string at, List<Finding> findings)
    {
        var t = Text(root, path, at, findings);
        if (t is null) return null;
        var digits = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? t[2..] : t;
        if (int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)) return v;
        findings.Add(new Finding(Severity.Error, "bad-sysfs-value", at, $"{root.Map(path)} holds '{t}', not a hex number."));
        return null;
    }
}
