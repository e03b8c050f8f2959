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
    string LibvirtCapabilityCache)
{
    public static HookEnvironment FromVariables(Func<string, string?> env) => new(
        env("LIBVIRT_NVLINK_HOST_ROOT") is { Length: > 0 } root ? new HostRoot(root) : HostRoot.Production,
        env("LIBVIRT_NVLINK_CONFIG") is { Length: > 0 } c ? c : HookConfig.DefaultPath,
        env("LIBVIRT_NVLINK_STATE_DIR") is { Length: > 0 } s ? s : "/var/lib/libvirt-nvlink/hook-state",
        env("LIBVIRT_NVLINK_LOCK_DIR") is { Length: > 0 } l ? l : "/run/libvirt-nvlink",
        env("LIBVIRT_NVLINK_LIBVIRT_RUN_DIR") is { Length: > 0 } r ? r : "/var/run/libvirt/qemu",
        env("LIBVIRT_NVLINK_LIBVIRT_CACHE_DIR") is { Length: > 0 } k ? k : PlatformReader.LibvirtCapabilityCache);
}
