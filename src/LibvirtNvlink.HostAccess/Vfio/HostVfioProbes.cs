using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.HostAccess.Vfio;

/// <summary>
/// Which probe answers for a group: the kernel's when /dev/vfio/N is a VFIO group device, else the answers a
/// snapshot recorded (its /dev/vfio/N are plain files), else none.
/// </summary>
public sealed class HostVfioProbes(HostRoot root)
{
    private readonly LinuxVfioProbe _linux = new(root);
    private readonly RecordedVfioProbe _recorded = new(root);

    public IVfioProbe? For(int group) => _linux.IsGroupDevice(group) ? _linux : _recorded.HasRecording(group) ? _recorded : null;
}
