namespace LibvirtNvlink.Transform;

/// <summary>How the guest's generic-initiator nodes are written.</summary>
public enum GiForm
{
    /// <summary>libvirt 11.8+: memory-less &lt;cell&gt;s and &lt;acpi nodeset&gt; in the hostdev; libvirt writes the objects.</summary>
    LibvirtAcpi,

    /// <summary>Older libvirt: a user alias on the hostdev and -numa / -object acpi-generic-initiator in &lt;qemu:commandline&gt;.</summary>
    QemuCommandline,
}
