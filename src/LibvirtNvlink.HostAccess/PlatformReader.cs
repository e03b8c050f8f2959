using System.Globalization;
using System.Xml;

namespace LibvirtNvlink.HostAccess;

/// <summary>Kernel, QEMU and process facts the hook's preflight needs, read without running anything.</summary>
public static class PlatformReader
{
    public const string LibvirtCapabilityCache = "/var/cache/libvirt/qemu/capabilities";

    public static string? KernelRelease(HostRoot root)
    {
        try { return root.ReadText("/proc/sys/kernel/osrelease"); }
        catch (IOException) { return null; }
    }

    /// <summary>Host processes that keep NVIDIA GPUs open and must be stopped before passthrough.</summary>
    public static IReadOnlyList<string> ProcessesHoldingGpus(HostRoot root)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pid in root.ListNames("/proc"))
        {
            if (pid.Length == 0 || !char.IsAsciiDigit(pid[0])) continue;
            string? comm;
            try { comm = root.ReadText($"/proc/{pid}/comm"); }
            catch (IOException) { continue; }
            if (comm is "nvidia-persistenced" or "nvidia-smi") found.Add($"{comm} (pid {pid})");
        }
        return [.. found];
    }

    /// <summary>
    /// What libvirt's own capability cache says about an emulator: QEMU's version (qemuCaps/version, e.g. 7002022)
    /// and the version of the libvirtd that probed it (qemuCaps/selfvers). The hook reads this instead of running
    /// QEMU, asking libvirtd, or loading libvirt.so.0 (whose dependencies alone cost ~30 ms of start-up).
    /// </summary>
    public static (int Major, int Minor)? QemuVersionFromLibvirtCache(string cacheDirectory, string emulator) =>
        ReadLibvirtCache(cacheDirectory, emulator).Qemu;

    public static ((int Major, int Minor)? Qemu, ulong? LibvirtNumber) ReadLibvirtCache(string cacheDirectory, string emulator)
    {
        if (!Directory.Exists(cacheDirectory)) return (null, null);
        foreach (var file in Directory.EnumerateFiles(cacheDirectory, "*.xml"))
        {
            try
            {
                using var reader = XmlReader.Create(file, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true });
                string? seenEmulator = null;
                ulong? selfVersion = null;
                while (reader.Read())
                {
                    if (reader.NodeType != XmlNodeType.Element || reader.Depth != 1) continue;
                    if (reader.Name == "emulator") seenEmulator = reader.ReadElementContentAsString();
                    else if (reader.Name == "selfvers") selfVersion = ulong.Parse(reader.ReadElementContentAsString(), NumberStyles.None, CultureInfo.InvariantCulture);
                    else if (reader.Name == "version")
                    {
                        if (seenEmulator != emulator) break;
                        var v = ulong.Parse(reader.ReadElementContentAsString(), NumberStyles.None, CultureInfo.InvariantCulture);
                        return (((int)(v / 1_000_000), (int)(v / 1000 % 1000)), selfVersion);
                    }
                }
            }
            catch (Exception e) when (e is XmlException or IOException or FormatException or OverflowException)
            {
                // A half-written or foreign cache file says nothing about our emulator.
            }
        }
        return (null, null);
    }

    /// <summary>The soft "Max locked memory" of a process from /proc/PID/limits: bytes, ulong.MaxValue for unlimited.</summary>
    public static ulong? MaxLockedMemory(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/limits"); }
        catch (IOException) { return null; }
        return ParseMaxLockedMemory(text);
    }

    public static ulong? ParseMaxLockedMemory(string limits)
    {
        foreach (var line in limits.Split('\n'))
        {
            if (!line.StartsWith("Max locked memory", StringComparison.Ordinal)) continue;
            var fields = line["Max locked memory".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 1) return null;
            if (fields[0] == "unlimited") return ulong.MaxValue;
            return ulong.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        return null;
    }
}
