using System.Globalization;
using System.Text;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Topology;

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
    /// What libvirt's own capability cache says about an emulator: QEMU's version (qemuCaps/version, e.g. 7002022,
    /// as major.minor and the micro release apart, which only fixes in stable releases need) and the version of the libvirtd that probed it (qemuCaps/selfvers). The hook reads this instead of running
    /// QEMU, asking libvirtd, or loading libvirt.so.0 (whose dependencies alone cost ~30 ms of start-up).
    /// </summary>
    public static ((int Major, int Minor)? Qemu, ulong? LibvirtNumber, int? QemuMicro) ReadLibvirtCache(string cacheDirectory, string emulator)
    {
        try
        {
            // A cache directory others can write could claim any QEMU: then it says nothing.
            if (!TrustedFiles.CheckDirectory(cacheDirectory)) return (null, null, null);
        }
        catch (IOException)
        {
            return (null, null, null);
        }
        var wanted = Encoding.UTF8.GetBytes("<emulator>" + emulator + "</emulator>");
        Span<byte> head = stackalloc byte[512];
        foreach (var file in LibvirtCacheEntries(cacheDirectory))
        {
            try
            {
                // A cache file is hundreds of kilobytes of <flag/> lines; the emulator is on its second line, so
                // only the matching file is read in full. libvirt writes these files itself, in this exact form.
                using var reader = TrustedFiles.OpenForReading(file);
                if (reader is null) continue;
                var n = reader.ReadUpTo(head);
                if (head[..n].IndexOf(wanted) < 0) continue;
                var text = Encoding.UTF8.GetString(head[..n]) + Encoding.UTF8.GetString(reader.ReadToEnd(LibvirtCacheMaxBytes));
                var qemu = Element(text, "version");
                var self = Element(text, "selfvers");
                return (qemu is { } v ? ((int)(v / 1_000_000), (int)(v / 1000 % 1000)) : null, self, qemu is { } m ? (int)(m % 1000) : null);
            }
            catch (IOException)
            {
                // Being rewritten by libvirtd right now, or not libvirt's (a link, a FIFO, someone else's): it says
                // nothing reliable.
            }
        }
        return (null, null, null);
    }

    private static ulong? Element(string text, string name)
    {
        var open = "<" + name + ">";
        var at = text.IndexOf(open, StringComparison.Ordinal);
        if (at < 0) return null;
        var end = text.IndexOf('<', at + open.Length);
        return end > 0 && ulong.TryParse(text.AsSpan(at + open.Length, end - at - open.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    public const string SratPath = "/sys/firmware/acpi/tables/SRAT";

    /// <summary>An SRAT lists one entry per CPU, memory range and generic initiator: kilobytes; 1 MiB is not one.</summary>
    public const int SratMaxBytes = 1 << 20;

    /// <summary>
    /// The firmware's SRAT (root-readable only), or why it cannot be had. Read like every other host file (through
    /// the root, non-blocking, capped), so a snapshot records it and nothing planted there can hang a reader.
    /// </summary>
    public static (AcpiSrat? Srat, string? Unreadable) ReadSrat(HostRoot root)
    {
        var path = root.Map(SratPath);
        try
        {
            return root.ReadBytesAt(path, SratMaxBytes) is { } bytes
                ? (AcpiSrat.Parse(bytes), null)
                : (null, $"{path} does not exist (no ACPI, or no SRAT)");
        }
        catch (ErrnoException e) when (e.Errno == ErrnoException.EACCES)
        {
            return (null, $"{path} is readable by root only");
        }
        catch (IOException e)
        {
            return (null, $"{path}: {e.Message}");
        }
        catch (FormatException e)
        {
            return (null, $"{path}: {e.Message}");
        }
    }

    /// <summary>The soft "Max locked memory" of a process from /proc/PID/limits: bytes, ulong.MaxValue for unlimited.</summary>
    public static ulong? MaxLockedMemory(HostRoot root, int pid)
    {
        string? text;
        // Through the root like every host read (a simulated host's /proc in tests), and not File.ReadAllText: that
        // takes a shared flock, and anyone may hold an exclusive one on this file.
        try { text = root.ReadBytes($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/limits") is { } b ? Encoding.UTF8.GetString(b) : null; }
        catch (IOException) { return null; }
        if (text is null) return null;
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
