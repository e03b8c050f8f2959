namespace LibvirtNvlink.Memlock;

/// <summary>
/// The locked memory a Grace guest needs, next to the limit libvirt sets for it on its own (its
/// qemuDomainGetMemLockLimitBytes with any &lt;hard_limit&gt; ignored).
/// </summary>
/// <param name="Libvirt">libvirt's own figure for the domain as written, &lt;hard_limit&gt; ignored.</param>
/// <param name="NeedBytes">What QEMU will lock: guest RAM once per DMA address space, BARs iommufd charges, 1 GiB.</param>
/// <param name="Terms">The derivation of <paramref name="NeedBytes"/>, in KiB unless said.</param>
public sealed record GraceMemlockResult(
    MemlockResult Libvirt,
    ulong NeedBytes,
    GraceMemlockReason Reason,
    IReadOnlyList<MemlockTerm> Terms,
    IReadOnlyList<string> Notes)
{
    /// <summary>libvirt's own figure falls short: the need must be written as &lt;memtune&gt;&lt;hard_limit&gt;.</summary>
    public bool HardLimitNeeded => Reason is GraceMemlockReason.RamCopies or GraceMemlockReason.IommufdBars;

    public ulong NeedKiB => NeedBytes >> 10;

    public ulong? Term(string name) => Terms.FirstOrDefault(t => t.Name == name)?.Value;

    /// <summary>One sentence on the verdict, for transform's and explain's output.</summary>
    public string Why => Reason switch
    {
        GraceMemlockReason.Unlimited => "<memoryBacking><locked/> makes libvirt remove the limit",
        GraceMemlockReason.LibvirtCovers => $"libvirt's own limit ({Libvirt.Bytes} bytes, {Libvirt.Rule}) covers the {NeedBytes} bytes the guest locks",
        GraceMemlockReason.RamCopies =>
            $"libvirt's own limit ({Libvirt.Bytes} bytes, {Libvirt.Rule}) counts guest RAM {Times(Term("libvirtFactor"))} but it is pinned " +
            $"{Times(Term("ramCopies"))} (once per DMA address space), so the guest needs {NeedBytes} bytes",
        _ => $"libvirt's own limit ({Libvirt.Bytes} bytes, {Libvirt.Rule}) leaves out the {Term("graceBarKiB") * Term("barCopies")} KiB of Grace GPU BARs " +
             $"iommufd charges, so the guest needs {NeedBytes} bytes",
    };

    private static string Times(ulong? n) => n == 1 ? "once" : $"{n} times";
}
