using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Follows the symlink at the end of a path whose directory part is already physical — how sysfs is built: one
/// link from /sys/bus/pci/devices to the device, one from the device to its of_node. Two or three syscalls where
/// realpath(3) makes one per path component; the hook reads every PCI device of the host this way.
/// </summary>
public static class SymlinkResolver
{
    private const int MaxHops = 40;

    /// <param name="path">An absolute path whose every component but the last is not a symlink.</param>
    /// <returns>The physical path the last component leads to (which may not exist: check it).</returns>
    /// <exception cref="ErrnoException">ELOOP after 40 hops, or readlink failing.</exception>
    public static string ResolveLast(string path)
    {
        for (var hop = 0; hop < MaxHops; hop++)
        {
            string? target;
            try
            {
                target = LibcInterop.ReadLink(path);
            }
            catch (ErrnoException e) when (e.Errno is ErrnoException.ENOENT or ErrnoException.ENOTDIR)
            {
                // A dangling link ends here; the caller's existence check says so with the path.
                return path;
            }
            if (target is null) return path;
            path = target.StartsWith('/') ? Normalize(target) : Normalize(Path.GetDirectoryName(path) + "/" + target);
        }
        throw new ErrnoException("readlink", path, ErrnoException.ELOOP);
    }

    /// <summary>Lexical normalisation: removes ".", "..", and repeated slashes.</summary>
    public static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(p);
        }
        return "/" + string.Join('/', parts);
    }
}
