using System.Globalization;
using System.Text;
using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Writes a file so that readers see the old content or the new, never half of it: a temporary file next to it,
/// then rename(2). The temporary file is removed on every failure this process sees (exceptions, and SIGTERM through
/// ProcessExit); one left by a killed process is named <c>.NAME.libvirt-nvlink-PID-N.tmp</c>, and the next write of the
/// same file removes those whose process is gone.
/// </summary>
public static class AtomicFile
{
    private const string Marker = ".libvirt-nvlink-";
    private static readonly HashSet<string> InFlight = [];
    private static int _sequence;
    private static bool _exitHookRegistered;

    /// <param name="createMode">The new file's mode, before the umask (0644 by default; 0600 for anything private).</param>
    public static void WriteAllText(string path, string content, UnixFileMode createMode = DefaultMode) =>
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(content), createMode);

    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, UnixFileMode createMode = DefaultMode)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        RemoveStaleTemporaries(dir, name);
        var temp = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture,
            $".{name}{Marker}{Environment.ProcessId}-{Interlocked.Increment(ref _sequence)}.tmp"));
        Track(temp);
        try
        {
            using (var fd = LibcInterop.OpenFile(temp, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow, createMode))
            {
                LibcInterop.WriteAll(fd, bytes, temp);
                LibcInterop.Fsync(fd, temp);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            // After a successful rename there is nothing left to delete; after any failure, the temporary goes.
            File.Delete(temp);
            Untrack(temp);
        }
    }

    /// <summary>The temporary files of <paramref name="name"/> whose writer is gone (killed before it could clean up).</summary>
    public static IEnumerable<string> StaleTemporaries(string directory, string name)
    {
        if (!Directory.Exists(directory)) yield break;
        var prefix = "." + name + Marker;
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
        {
            var rest = Path.GetFileName(path).AsSpan(prefix.Length);
            var dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (pid != Environment.ProcessId && !LibcInterop.ProcessExists(pid)) yield return path;
        }
    }

    private static void RemoveStaleTemporaries(string directory, string name)
    {
        foreach (var stale in StaleTemporaries(directory, name).ToList())
        {
            try
            {
                File.Delete(stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's to clean up; it does not stand in the way of this write.
            }
        }
    }

    private static void Track(string temp)
    {
        lock (InFlight)
        {
            InFlight.Add(temp);
            if (_exitHookRegistered) return;
            _exitHookRegistered = true;
            // SIGTERM ends a .NET process through ProcessExit, which skips the finally blocks of running code.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                lock (InFlight)
                {
                    foreach (var t in InFlight)
                    {
                        try { File.Delete(t); }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the next write removes it */ }
                    }
                }
            };
        }
    }

    private static void Untrack(string temp)
    {
        lock (InFlight) InFlight.Remove(temp);
    }
}
