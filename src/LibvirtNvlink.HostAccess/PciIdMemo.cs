using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Vendor and device IDs, each device's read at most once in a run: the hook's triage asks for the domain's devices
/// and its scoped discovery then asks for every device of the host. One per hook invocation, never longer-lived — a
/// hot-plugged slot can hold another device tomorrow.
/// </summary>
public sealed class PciIdMemo(HostRoot root)
{
    private readonly Dictionary<PciAddress, (int Vendor, int Device)?> _ids = [];

    /// <inheritdoc cref="PciSysfsReader.ReadIds"/>
    public (int Vendor, int Device)? Read(PciAddress address)
    {
        if (!_ids.TryGetValue(address, out var ids))
        {
            ids = PciSysfsReader.ReadIds(root, address);
            _ids[address] = ids;
        }
        return ids;
    }
}
