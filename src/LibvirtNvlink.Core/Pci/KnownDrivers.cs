namespace LibvirtNvlink.Pci;

/// <summary>
/// The kernel drivers an NVLink2 GPU or bridge or a Grace GPU is found on, or handed to: the only names the hook
/// records in an undo record and writes back into driver_override. A record naming anything else was not written by
/// the hook.
/// </summary>
public static class KnownDrivers
{
    public const string VfioPci = "vfio-pci";

    private static readonly HashSet<string> Names = new(StringComparer.Ordinal)
    {
        VfioPci,
        Topology.GraceGpu.VariantDriver,
        "nvidia",
        "nouveau",
        "ibmnpu",
        "pci-stub",
    };

    public static IReadOnlyCollection<string> All => Names;

    public static bool IsKnown(string name) => Names.Contains(name);
}
