using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HostAccess;

/// <summary>state/&lt;domain&gt;.json: what release must undo for one domain.</summary>
public sealed record HookUndoRecord(string Domain, List<DriverChange> Changes)
{
    /// <summary>More changes than any host has GPUs and bridges for one domain is not a record the hook wrote.</summary>
    public const int MaxChanges = 256;

    /// <summary>Why this record cannot be one the hook wrote for <paramref name="domain"/>, or null when it can.</summary>
    public string? Problem(string domain)
    {
        if (Domain != domain) return $"it is for domain '{Domain}', not '{domain}'";
        if (Changes is null) return "it lists no changes";
        if (Changes.Count > MaxChanges) return $"it lists {Changes.Count} changes, more than {MaxChanges}";
        foreach (var c in Changes)
        {
            if (c.OriginalDriver is { } d && !KnownDrivers.IsKnown(d)) return $"device {c.Device} names driver '{d}', not one the hook binds from ({string.Join(", ", KnownDrivers.All)})";
            if (c.PreviousOverride is { } o && !KnownDrivers.IsKnown(o)) return $"device {c.Device} names driver_override '{o}', not one the hook restores";
        }
        return null;
    }
}
