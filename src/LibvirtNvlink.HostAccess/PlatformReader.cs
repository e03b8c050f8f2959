using System.Globalization;

namespace LibvirtNvlink.HostAccess;

/// <summary>Kernel, QEMU and process facts the hook's preflight needs, read without running anything.</summary>
public static class PlatformReader
{
    public const string LibvirtCapabilityCache = "/var/cache/libvirt/qemu/capabilities";

    /// <summary>A capability cache file is hundreds of kilobytes of &lt;flag/&gt; lines; 8 MiB is not one.</summary>
    public const int LibvirtCacheMaxBytes = 8 << 20;

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
            if (comm is not null && HoldsGpus(comm)) found.Add($"{comm} (pid {pid})");
        }
        return [.. found];
    }

    /// <summary>Whether a process of this name (/proc/PID/comm) keeps NVIDIA GPUs open.</summary>
    public static bool HoldsGpus(string comm) => comm is "nvidia-persistenced" or "nvidia-smi";

    /// <summary>The capability cache files <see cref="ReadLibvirtCache"/> looks at: one per emulator libvirt probed.</summary>
    public static IEnumerable<string> LibvirtCacheEntries(string cacheDirectory) =>
        Directory.Exists(cacheDirectory) ? Directory.EnumerateFiles(cacheDirectory, "*.xml").Order(StringComparer.Ordinal) : [];

    /// <summary>
    /// What libvirt's own capability cache says about an emulator: QEMU's version (qemuCaps/version, e.g. 7002022)
    /// and the version of the libvirtd that probed it (qemuCaps/selfvers). The hook reads this instead of running
    /// QEMU, asking libvirtd, or loading libvirt.so.0 (whose dependencies alone cost ~30 ms of start-up).
    /// </summary>
    public static ((int Major, int Minor)? Qemu, ulong? LibvirtNumber) ReadLibvirtCache(string cacheDirectory, string emulator)
    {
        var wanted = "<emulator>" + emulator + "</emulator>";
        foreach (var file in LibvirtCacheEntries(cacheDirectory))
        {
            try
            {
                // A cache file is hundreds of kilobytes of <flag/> lines; the emulator is on its second line, so
                // only the matching file is read in full. libvirt writes these files itself, in this exact form.
                using (var head = File.OpenRead(file))
                {
                    var buffer = new byte[512];
                    var n = head.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    if (!System.Text.Encoding.UTF8.GetString(buffer, 0, n).Contains(wanted, StringComparison.Ordinal)) continue;
                }
                var text = File.ReadAllText(file);
                var qemu = Element(text, "version");
                var self = Element(text, "selfvers");
                return (qemu is { } v ? ((int)(v / 1_000_000), (int)(v / 1000 % 1000)) : null, self);
            }
            catch (IOException)
            {
                // Being rewritten by libvirtd right now: it says nothing reliable.
            }
        }
        return (null, null);
    }

    private static ulong? Element(string text, string name)
    {
        var open = "<" + name + ">";
        var at = text.IndexOf(open, StringComparison.Ordinal);
        if (at < 0) return null;
        var end = text.IndexOf('<', at + open.Length);
        return end > 0 && ulong.TryParse(text.AsSpan(at + open.Length, end - at - open.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
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
