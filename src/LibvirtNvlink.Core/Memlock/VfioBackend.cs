namespace LibvirtNvlink.Memlock;

/// <summary>How QEMU reaches the host IOMMU for one VFIO hostdev.</summary>
public enum VfioBackend
{
    /// <summary>A VFIO group in a type1 container (/dev/vfio/vfio): libvirt's default.</summary>
    LegacyContainer,

    /// <summary>
    /// An iommufd IOAS: <c>&lt;driver iommufd='yes'/&gt;</c> on the hostdev (libvirt 12.1) or a domain-wide
    /// <c>&lt;iommufd enabled='yes'/&gt;</c> (libvirt 12.2) the hostdev does not opt out of.
    /// </summary>
    Iommufd,
}
