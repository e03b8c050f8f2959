using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess;

/// <summary>Reads /sys/bus/pci/devices into <see cref="PciDevice"/> records; read problems become findings.</summary>
public static class PciSysfsReader
{
    public const string DevicesPath = "/sys/bus/pci/devices";

    public static IReadOnlyList<PciDevice> ReadAll(HostRoot root, List<Finding> findings) => ReadAll(root, findings, null);

    /// <param name="interesting">When given, only devices whose vendor/device it accepts are read in full — plus
    /// every member of their IOMMU groups, so group viability is still judged on the whole group. The hook uses
    /// this: a real host has a hundred PCI functions and the hook cares about a handful.</param>
    /// <param name="ids">IDs already read in this run (the hook's triage read the domain's devices).</param>
    public static IReadOnlyList<PciDevice> ReadAll(HostRoot root, List<Finding> findings, Func<int, int, bool>? interesting, PciIdMemo? ids = null)
    {
        var dtBase = DeviceTreeBaseRealPath(root);
        var devices = new Dictionary<PciAddress, PciDevice>();
        ids ??= new PciIdMemo(root);
        foreach (var name in root.ListNames(DevicesPath))
        {
            if (!PciAddress.TryParse(name, out var address, out _)) continue;
            (int Vendor, int Device)? known = null;
            if (interesting is not null)
            {
                try
                {
                    known = ids.Read(address);
                }
                catch (IOException)
                {
                    // Unreadable IDs: read it in full below, so the problem becomes a finding.
                }
                if (known is { } k && !interesting(k.Vendor, k.Device)) continue;
            }
            if (Read(root, address, dtBase, findings, known) is { } d) devices[address] = d;
        }
        if (interesting is not null)
        {
            foreach (var group in devices.Values.Select(d => d.IommuGroup).OfType<int>().Distinct().ToList())
            {
                foreach (var member in root.ListNames($"/sys/kernel/iommu_groups/{group.ToString(CultureInfo.InvariantCulture)}/devices"))
                {
                    if (PciAddress.TryParse(member, out var a, out _) && !devices.ContainsKey(a) && Read(root, a, dtBase, findings) is { } d)
                    {
                        devices[a] = d;
                    }
                }
            }
        }
        return [.. devices.Values];
    }

    /// <summary>
    /// A device's vendor and device IDs, two small reads: what the hook's triage and the scoped discovery decide on.
    /// Null when the device is absent or its IDs are not hex.
    /// </summary>
    /// <exception cref="IOException">The files exist but cannot be read.</exception>
    public static (int Vendor, int Device)? ReadIds(HostRoot root, PciAddress address)
    {
        var dir = $"{DevicesPath}/{address}";
        return ParseHex(root.ReadText(dir + "/vendor")) is { } v && ParseHex(root.ReadText(dir + "/device")) is { } d ? (v, d) : null;
    }

    private static int? ParseHex(string? t) =>
        t is not null && int.TryParse(t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? t[2..] : t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>Reads one device, or null when it is not present on this host.</summary>
    /// <param name="knownIds">The vendor and device IDs when they were just read through the bus link.</param>
    public static PciDevice? Read(HostRoot root, PciAddress address, string? dtBaseRealPath, List<Finding> findings,
        (int Vendor, int Device)? knownIds = null)
    {
        var link = $"{DevicesPath}/{address}";
        var at = address.ToString();
        string dir;
        try
        {
            // The device directory, physically: reading through it avoids the kernel walking the bus link again,
            // and it is what a relative of_node link is relative to.
            dir = root.ResolveLastAt(root.Map(link));
        }
        catch (ErrnoException e)
        {
            findings.Add(new Finding(Severity.Error, e.Errno == ErrnoException.ELOOP ? "symlink-loop" : "dangling-link", at,
                $"{root.Map(link)} cannot be resolved: {ErrnoException.Describe(e.Errno)}."));
            return null;
        }
        if (!root.ExistsAt(dir))
        {
            if (root.IsSymlink(link))
            {
                findings.Add(new Finding(Severity.Error, "dangling-link", at,
                    $"{root.Map(link)} is a symlink to nothing ({dir}); the device cannot be read."));
            }
            return null;
        }
        var vendor = knownIds?.Vendor ?? Hex(root, dir + "/vendor", at, findings);
        var device = knownIds?.Device ?? Hex(root, dir + "/device", at, findings);
        var cls = Hex(root, dir + "/class", at, findings);
        if (vendor is null || device is null) return null;

        int? numa = null;
        if (Text(root, dir + "/numa_node", at, findings) is { } n &&
            int.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nn) && nn >= 0)
        {
            numa = nn;
        }
        var driver = LinkName(root, dir + "/driver");
        var group = GroupNumber(root, dir + "/iommu_group");
        var ofNode = dtBaseRealPath is null ? null : OfNode(root, dir + "/of_node", dtBaseRealPath, at, findings);
        IReadOnlyList<PciBar>? bars = null;
        string? driverOverride = null;
        string? iommu = null;
        if (PciIds.IsGraceGpuId(vendor.Value, device.Value))
        {
            if (Text(root, dir + "/resource", at, findings) is { } resource) bars = PciResourceFile.Parse(resource);
            // Which driver the GPU was handed to: with no driver bound, that driver refused it at probe.
            if (Text(root, dir + "/driver_override", at, findings) is { Length: > 0 } set && set != "(null)")
            {
                driverOverride = set;
            }
            // The physical IOMMU it sits behind (…/arm-smmu-v3.N.auto/iommu/smmu3.0x…): which GPUs share an SMMU.
            iommu = LinkName(root, dir + "/iommu");
        }
        return new PciDevice(address, vendor.Value, device.Value, cls ?? 0, driver, group, numa, ofNode)
        {
            Bars = bars, DriverOverride = driverOverride, IommuInstance = iommu,
        };
    }

    public static string? DeviceTreeBaseRealPath(HostRoot root)
    {
        if (!SysfsDeviceTree.IsPresent(root)) return null;
        try { return root.RealPath(SysfsDeviceTree.BasePath); }
        catch (ErrnoException) { return null; }
    }

    private static string? OfNode(HostRoot root, string linkPath, string dtBase, string at, List<Finding> findings)
    {
        string real;
        try
        {
            if (root.ReadLinkAt(linkPath) is null) return null;
            real = root.ResolveLastAt(linkPath);
        }
        catch (ErrnoException e) when (e.Errno == ErrnoException.ENOENT)
        {
            return null;
        }
        catch (ErrnoException e)
        {
            findings.Add(new Finding(Severity.Error, e.Errno == ErrnoException.ELOOP ? "symlink-loop" : "dangling-link", at,
                $"{linkPath} cannot be resolved: {ErrnoException.Describe(e.Errno)}. The device's device-tree " +
                "node is unknown, so its NVLink2 wiring cannot be read."));
            return null;
        }
        if (!root.ExistsAt(real))
        {
            findings.Add(new Finding(Severity.Error, "dangling-link", at,
                $"{linkPath} cannot be resolved: it points to {real}, which does not exist. The device's device-tree " +
                "node is unknown, so its NVLink2 wiring cannot be read."));
            return null;
        }
        if (real == dtBase) return "/";
        if (!real.StartsWith(dtBase + "/", StringComparison.Ordinal))
        {
            findings.Add(new Finding(Severity.Error, "of-node-outside-tree", at,
                $"{linkPath} resolves to {real}, outside the device tree at {dtBase}."));
            return null;
        }
        return real[dtBase.Length..];
    }

    /// <summary>The IOMMU group of one device (its iommu_group link), or null when it has none.</summary>
    public static int? IommuGroup(HostRoot root, PciAddress address) => GroupNumber(root, root.Map($"{DevicesPath}/{address}/iommu_group"));

    private static int? GroupNumber(HostRoot root, string iommuGroupLink) =>
        LinkName(root, iommuGroupLink) is { } g && int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var group) ? group : null;

    private static string? LinkName(HostRoot root, string path)
    {
        try
        {
            return root.ReadLinkAt(path) is { } target ? Path.GetFileName(target.TrimEnd('/')) : null;
        }
        catch (ErrnoException)
        {
            return null;
        }
    }

    private static string? Text(HostRoot root, string path, string at, List<Finding> findings)
    {
        try
        {
            return root.ReadTextAt(path);
        }
        catch (IOException e)
        {
            findings.Add(new Finding(Severity.Error, "unreadable-file", at, $"Cannot read {path}: {e.Message}"));
            return null;
        }
    }

    private static int? Hex(HostRoot root, string path, string at, List<Finding> findings)
    {
        var t = Text(root, path, at, findings);
        if (t is null) return null;
        if (ParseHex(t) is { } v) return v;
        findings.Add(new Finding(Severity.Error, "bad-sysfs-value", at, $"{path} holds '{t}', not a hex number."));
        return null;
    }
}
