namespace LibvirtNvlink.Domain;

/// <summary>
/// One &lt;controller type='pci'&gt; of a guest, as far as the Grace layout cares: its <paramref name="Index"/> (the bus
/// number its children's &lt;address bus&gt; name), its model, the controller it hangs under (its own &lt;address
/// bus&gt;; null when libvirt places it), and for an expander the guest NUMA cell of &lt;target&gt;&lt;node&gt;.
/// </summary>
public sealed record GuestPciBus(int Index, string? Model, int? ParentBus, int? NumaNode)
{
    /// <summary>pxb-pcie (pcie-expander-bus) or pxb (pci-expander-bus): a root bus of its own, with a NUMA node.</summary>
    public bool IsExpander => Model is "pcie-expander-bus" or "pci-expander-bus";
}
