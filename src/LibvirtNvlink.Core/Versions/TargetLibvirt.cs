namespace LibvirtNvlink.Versions;

/// <summary>Which libvirt the computation targets, and how we know.</summary>
public sealed record TargetLibvirt(LibvirtVersion Version, string Source)
{
    public const string FromOption = "--libvirt-version";
    public const string FromHost = "libvirt on this host";
    public const string FromAssumption = "assumed (no libvirt found)";

    public bool IsKnown => Source != FromAssumption;
}
