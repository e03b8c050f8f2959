namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>flock(2) operations (sys/file.h).</summary>
[Flags]
public enum LockOperation
{
    Shared = 1,
    Exclusive = 2,
    NonBlocking = 4,
    Unlock = 8,
}
