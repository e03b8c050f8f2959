using System.Globalization;
using System.Text.RegularExpressions;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// Turns the paths the readers touched into a <see cref="HostTree"/> that reads back the same: every symlink met on
/// the way is copied as a link relative to the root (absolute targets rewritten), directories are created, and a
/// file is copied only when its content was read or its existence tested — with the readers' own non-blocking,
/// size-capped read. What cannot or must not be copied is listed with the reason.
/// </summary>
internal sealed partial class HostClosure(HostRoot source)
{
    private const int MaxLinkHops = 40;
    private readonly HostRoot _source = source.Observer is null ? source : new HostRoot(source.Root);
    private int _privateProcesses;

    public HostTree Tree { get; } = new();

    public List<SkippedPath> Skipped { get; } = [];

    /// <summary>The skip notes that summarise many paths; call once at the end.</summary>
    public IEnumerable<SkippedPath> Summaries()
    {
        if (_privateProcesses > 0)
        {
            yield return new SkippedPath("/proc/*/comm", string.Create(CultureInfo.InvariantCulture,
                $"{_privateProcesses} process name(s) of processes that hold no GPU: process names are private, and the preflight only looks for nvidia-persistenced and nvidia-smi"));
        }
    }

    public void Add(string hostPath, HostAccessKind kind)
    {
        if (ProcessComm().IsMatch(hostPath) && !HoldsGpus(hostPath)) return;
        var pending = new LinkedList<string>(Components(hostPath));
        var current = "";
        var hops = 0;
        while (pending.First is { } first)
        {
            var component = first.Value;
            pending.RemoveFirst();
            if (component == "..")
            {
                current = HostTree.Parent(current);
                continue;
            }
            var next = current.Length == 0 ? component : current + "/" + component;
            var last = pending.Count == 0;
            var physical = _source.Map("/" + next);
            string? target;
            try
            {
                target = _source.ReadLinkAt(physical);
            }
            catch (HostAccess.Interop.ErrnoException e)
            {
                Skipped.Add(new SkippedPath("/" + next, e.Message));
                return;
            }
            if (target is not null)
            {
                Tree.AddDirectory(current);
                if (!Tree.Contains(next)) Tree.Set(next, new HostTreeNode(ManifestEntryType.Link, "/" + next, Target: RelativeTarget(next, target)));
                if (last && kind == HostAccessKind.LinkText) return;
                if (++hops > MaxLinkHops)
                {
                    Skipped.Add(new SkippedPath(hostPath, "more than 40 symlinks on the way (a loop): the links are kept, the loop reads the same"));
                    return;
                }
                foreach (var c in Components(target).Reverse()) pending.AddFirst(c);
                if (target.StartsWith('/')) current = "";
                continue;
            }
            if (Directory.Exists(physical))
            {
                Tree.AddDirectory(next);
                current = next;
                if (last && kind == HostAccessKind.Listing) CopyListedLinks(next, physical);
                continue;
            }
            if (!last || !File.Exists(physical)) return;
            if (kind is HostAccessKind.Content or HostAccessKind.Resolve) CopyFile(next, physical);
            return;
        }
    }

    /// <summary>
    /// A listing's names are part of what was read: the symlinks among them (PCI devices, IOMMU group members) are
    /// copied as links, so the listing reads the same; entries that are files or directories come only when read.
    /// </summary>
    private void CopyListedLinks(string path, string physical)
    {
        foreach (var entry in _source.ListNames("/" + path))
        {
            try
            {
                if (_source.ReadLinkAt(physical + "/" + entry) is not null) Add("/" + path + "/" + entry, HostAccessKind.LinkText);
            }
            catch (HostAccess.Interop.ErrnoException e)
            {
                Skipped.Add(new SkippedPath("/" + path + "/" + entry, e.Message));
            }
        }
    }

    private void CopyFile(string path, string physical)
    {
        if (Tree.Contains(path)) return;
        if (!_source.IsRegularFile("/" + path))
        {
            // /dev/iommu and the VFIO cdevs are character devices the preflight only tests for: an empty stand-in
            // answers that test the same (as on a simulated host), and nothing is opened.
            if (PreflightFactsReader.IsPresenceOnly("/" + path) && _source.FileType("/" + path) is not null)
            {
                Tree.AddDirectory(HostTree.Parent(path));
                Tree.Set(path, new HostTreeNode(ManifestEntryType.File, "/" + path + " (a device node: an empty stand-in, its existence is what was read)", []));
                return;
            }
            Skipped.Add(new SkippedPath("/" + path, "not a regular file (a device node, FIFO or socket): never copied" +
                (path.StartsWith("dev/vfio/", StringComparison.Ordinal) ? "; its VFIO answers are recorded under " + HostAccess.Vfio.RecordedVfioProbe.RecordingsPath : "")));
            return;
        }
        try
        {
            var cap = path.StartsWith(PlatformReader.LibvirtCapabilityCache[1..] + "/", StringComparison.Ordinal)
                ? PlatformReader.LibvirtCacheMaxBytes
                : path.StartsWith("boot/config-", StringComparison.Ordinal)
                    ? PreflightFactsReader.KernelConfigMaxBytes
                    : HostRoot.MaxFileBytes;
            if (_source.ReadBytesAt(physical, cap) is { } bytes)
            {
                Tree.AddDirectory(HostTree.Parent(path));
                Tree.Set(path, new HostTreeNode(ManifestEntryType.File, "/" + path, bytes));
            }
        }
        catch (IOException e)
        {
            Skipped.Add(new SkippedPath("/" + path, e.Message));
        }
    }

    private bool HoldsGpus(string hostPath)
    {
        try
        {
            if (_source.ReadText(hostPath) is { } comm && PlatformReader.HoldsGpus(comm)) return true;
        }
        catch (IOException)
        {
            // A process that just ended: nothing to copy either way.
        }
        _privateProcesses++;
        return false;
    }

    /// <summary>The target as a link relative to the link's directory; an absolute one means "under the root".</summary>
    private static string RelativeTarget(string linkPath, string target)
    {
        if (!target.StartsWith('/')) return target;
        var from = "/" + HostTree.Parent(linkPath);
        return Path.GetRelativePath(from, SymlinkResolver.Normalize(target));
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".");

    [GeneratedRegex("^/proc/[0-9]+/comm$", RegexOptions.CultureInvariant)]
    private static partial Regex ProcessComm();
}
