using System.Xml.Linq;

namespace LibvirtNvlink.Domain;

/// <summary>
/// One &lt;iommu model='smmuv3'&gt;: <paramref name="PciBus"/> is the index of the controller it is plugged onto
/// (&lt;driver pciBus&gt;, libvirt 11.10; null: the machine's own SMMU on pcie.0), <paramref name="Accel"/> the nested,
/// host-accelerated mode (accel='on'); the other options as written (null when absent).
/// </summary>
public sealed record GuestSmmuV3(XElement Element, int? PciBus, bool Accel, string? Ats, string? Ril, int? SsidSize, int? Oas, string? Cmdqv)
{
    public bool CmdqvOn => Cmdqv == "on";
}
