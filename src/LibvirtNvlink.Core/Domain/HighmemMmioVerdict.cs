namespace LibvirtNvlink.Domain;

/// <summary>What the domain's highmem-mmio-size means for its Grace GPUs (see <see cref="HighmemMmioWindow"/>).</summary>
public enum HighmemMmioVerdict
{
    /// <summary>The window the domain gets (default or set) holds every BAR.</summary>
    Enough,

    /// <summary>Not set, and the default 512 GiB is too small: the transform sets it.</summary>
    Missing,

    /// <summary>Set by the user, but smaller than the BARs need: the guest will not map every BAR.</summary>
    TooSmall,

    /// <summary>Set to something QEMU refuses (unreadable, not a power of two, or below the default): the guest will not start.</summary>
    Invalid,
}
