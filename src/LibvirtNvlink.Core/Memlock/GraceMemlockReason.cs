namespace LibvirtNvlink.Memlock;

/// <summary>Whether the limit libvirt computes itself covers what a Grace guest locks, and if not, why.</summary>
public enum GraceMemlockReason
{
    /// <summary>libvirt's own figure is at least what the guest needs: no &lt;hard_limit&gt; is needed.</summary>
    LibvirtCovers,

    /// <summary>&lt;memoryBacking&gt;&lt;locked/&gt;: libvirt removes the limit, so nothing can fall short.</summary>
    Unlimited,

    /// <summary>
    /// The guest's RAM is pinned more often than libvirt counts it: more DMA address spaces (a vIOMMU libvirt cannot
    /// see, a libvirt before 8.7, iommufd and legacy devices side by side) than libvirt's factor.
    /// </summary>
    RamCopies,

    /// <summary>The RAM is covered, but the Grace GPUs' BARs charged through iommufd are not.</summary>
    IommufdBars,
}
