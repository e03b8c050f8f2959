using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Transform;

/// <param name="Qemu">The QEMU that will run the domain; only the Grace edits depend on it.</param>
public sealed record TransformOptions(MemlockMode Memlock, TargetLibvirt Target, TargetQemu? Qemu = null);
