using LibvirtNvlink.Config;


namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Where the hook looks. Production: the real host, /etc/libvirt-nvlink/config.xml, libvirt's own run and cache
/// directories. Tests and benchmarks point these elsewhere with environment variables.
/// </summary>
public sealed record HookEnvironment(
    HostRoot Host,
    string ConfigPath,
    string StateDirectory,
    string LockDirectory,
    string LibvirtQemuRunDirectory,
    string LibvirtCapabilityCache,
    string? WorkerPath)
{
    public static HookEnvironment FromVariables(Func<string, string?> env) => new(
        env("LIBVIRT_NVLINK_HOST_ROOT") is { Length: > 0 } root ? new HostRoot(root) : HostRoot.Production,
        env("LIBVIRT_NVLINK_CONFIG") is { Length: > 0 } c ? c : HookConfig.DefaultPath,
        env("LIBVIRT_NVLINK_STATE_DIR") is { Length: > 0 } s ? s : "/var/lib/libvirt-nvlink/hook-state",
        env("LIBVIRT_NVLINK_LOCK_DIR") is { Length: > 0 } l ? l : "/run/libvirt-nvlink",
        env("LIBVIRT_NVLINK_LIBVIRT_RUN_DIR") is { Length: > 0 } r ? r : "/var/run/libvirt/qemu",
        env("LIBVIRT_NVLINK_LIBVIRT_CACHE_DIR") is { Length: > 0 } k ? k : PlatformReader.LibvirtCapabilityCache,
        env("LIBVIRT_NVLINK_HOOK_WORKER") is { Length: > 0 } w ? w : null);

    /// <summary>The worker binary: next to the real path of the running hook (qemu.d holds a symlink to it).</summary>
    public string ResolveWorkerPath()
    {
        if (WorkerPath is not null) return WorkerPath;
        string self;
        try { self = Interop.LibcInterop.RealPath("/proc/self/exe"); }
        catch (Interop.ErrnoException) { self = Environment.ProcessPath ?? "/usr/lib/libvirt-nvlink/libvirt-nvlink-hook"; }
        return Path.Combine(Path.GetDirectoryName(self)!, "libvirt-nvlink-hook-worker");
    }
}
