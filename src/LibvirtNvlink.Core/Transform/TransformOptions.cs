using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Transform;

/// <param name="Qemu">The QEMU that will run the domain; only the Grace edits depend on it.</param>
/// <param name="GraceLayout">Where Grace GPUs go on the guest's PCIe tree; NVLink2 domains ignore it.</param>
public sealed record TransformOptions(MemlockMode Memlock, TargetLibvirt Target, TargetQemu? Qemu = null, GracePciLayout GraceLayout = GracePciLayout.Auto);
