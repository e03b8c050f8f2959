namespace LibvirtNvlink.HostAccess;

/// <summary>What a reader did with a path under a <see cref="HostRoot"/>, as an <see cref="IHostAccessObserver"/> hears it.</summary>
public enum HostAccessKind
{
    /// <summary>Read the file's content (a sysfs attribute, a device-tree property).</summary>
    Content,

    /// <summary>Resolved the path with every symlink followed: an existence test, realpath, a directory test.</summary>
    Resolve,

    /// <summary>Read the symlink at the path itself (its target text), without following it.</summary>
    LinkText,

    /// <summary>Listed the directory's entries.</summary>
    Listing,
}
