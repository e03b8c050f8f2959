using System.Globalization;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Vfio;

/// <summary>
/// Checks what the kernel's VFIO driver exposes against the device tree: the GPU's NVLink2 RAM region with an
/// SSATGT capability equal to the device tree's tgt, and each bridge's ATSD region with SSATGT and LNKSPD equal to
/// its ibm,device-tgt-addr and ibm,nvlink-speed (drivers/vfio/pci/vfio_pci_nvlink2.c, Linux 5.0–5.12).
/// </summary>
public static class VfioNv2Checks
{
    private static readonly uint NvidiaRamType = VfioConstants.RegionTypePciVendorType | PciIds.VendorNvidia;
    private static readonly uint IbmAtsdType = VfioConstants.RegionTypePciVendorType | PciIds.VendorIbm;

    public static IEnumerable<Finding> Check(string domain, VfioGroupProbe probe, HostTopology host)
    {
        if (probe.Problem is { } problem)
        {
            yield return new Finding(Severity.Error, "vfio-group-unusable", $"group {probe.Group}",
                $"Domain '{domain}': VFIO group {probe.Group} cannot be used: {problem}");
            yield break;
        }
        if (!probe.Viable)
        {
            var members = string.Join(", ", host.IommuGroupMembers(probe.Group));
            yield return new Finding(Severity.Error, "vfio-group-not-viable", $"group {probe.Group}",
                $"Domain '{domain}': VFIO reports IOMMU group {probe.Group} not viable: every device in it ({members}) must be " +
                "bound to vfio-pci or to no driver. Bind them (virsh nodedev-detach) and start again.");
            yield break;
        }
        foreach (var dev in probe.Devices)
        {
            if (!PciAddress.TryParse(dev.Device, out var address, out _)) continue;
            if (host.Nv2GpuAt(address) is { } gpu)
            {
                foreach (var f in CheckGpu(domain, dev, gpu, host)) yield return f;
            }
            else if (host.BridgeAt(address) is { } bridge)
            {
                foreach (var f in CheckBridge(domain, dev, bridge)) yield return f;
            }
        }
    }

    private static IEnumerable<Finding> CheckGpu(string domain, VfioDeviceRegions dev, NvGpu gpu, HostTopology host)
    {
        var at = gpu.Address.ToString();
        var ram = dev.VendorRegions.FirstOrDefault(r => r.TypeCapability == (NvidiaRamType, VfioConstants.RegionSubtypeNvidiaNvlink2Ram));
        if (ram is null)
        {
            var why = dev.NumRegions <= VfioConstants.PciNumRegions
                ? $"the kernel exposes {dev.NumRegions} regions and no NVLink2 RAM region — Linux 5.13 removed vfio_pci_nvlink2, so this kernel cannot pass NVLink2 GPUs through. Boot a 5.0–5.12 kernel built with CONFIG_VFIO_PCI_NVLINK2"
                : "the kernel exposes no NVLink2 RAM region (vendor type 0x800010de subtype 1); check that the kernel has CONFIG_VFIO_PCI_NVLINK2 and dmesg for \"Failed to setup NVIDIA NV2 RAM region\"";
            yield return new Finding(Severity.Error, "vfio-no-gpu-ram-region", at, $"Domain '{domain}': GPU {at}: {why}.");
            yield break;
        }
        var expectedTgt = gpu.Bridges.Select(b => host.BridgeAt(b)?.Tgt).FirstOrDefault(t => t is not null);
        if (ram.SsaTgt is not { } tgt)
        {
            yield return new Finding(Severity.Error, "vfio-no-ssatgt", at,
                $"Domain '{domain}': GPU {at}: the NVLink2 RAM region has no SSATGT capability, so QEMU cannot pair it with its bridges. The kernel's VFIO driver is too old or patched; use a 5.0–5.12 kernel.");
        }
        else if (expectedTgt is { } e && tgt != e)
        {
            yield return new Finding(Severity.Error, "vfio-tgt-mismatch", at,
                string.Create(CultureInfo.InvariantCulture, $"Domain '{domain}': GPU {at}: VFIO reports tgt 0x{tgt:x} but the device tree says 0x{e:x}; QEMU would pair the GPU with the wrong bridges. Reboot the host; if it persists, update skiboot."));
        }
        const uint rwm = VfioConstants.RegionInfoFlagRead | VfioConstants.RegionInfoFlagWrite | VfioConstants.RegionInfoFlagMmap;
        if ((ram.Flags & rwm) != rwm)
        {
            yield return new Finding(Severity.Error, "vfio-gpu-ram-not-mappable", at,
                string.Create(CultureInfo.InvariantCulture, $"Domain '{domain}': GPU {at}: the NVLink2 RAM region has flags 0x{ram.Flags:x}; QEMU needs read, write and mmap."));
        }
    }

    private static IEnumerable<Finding> CheckBridge(string domain, VfioDeviceRegions dev, NpuBridge bridge)
    {
        var at = bridge.Address.ToString();
        var atsd = dev.VendorRegions.FirstOrDefault(r => r.TypeCapability == (IbmAtsdType, VfioConstants.RegionSubtypeIbmNvlink2Atsd));
        if (atsd is null)
        {
            yield return new Finding(Severity.Error, "vfio-no-atsd-region", at,
                $"Domain '{domain}': NVLink2 bridge {at}: the kernel exposes no ATSD region (vendor type 0x80001014 subtype 1)" +
                (dev.NumRegions <= VfioConstants.PciNumRegions ? " — Linux 5.13 removed vfio_pci_nvlink2; boot a 5.0–5.12 kernel." : "; check dmesg for \"Failed to setup NVIDIA NV2 ATSD region\"."));
            yield break;
        }
        if (atsd.SsaTgt != bridge.Tgt)
        {
            yield return new Finding(Severity.Error, "vfio-tgt-mismatch", at,
                string.Create(CultureInfo.InvariantCulture, $"Domain '{domain}': bridge {at}: VFIO reports tgt {Hex(atsd.SsaTgt)} but ibm,device-tgt-addr is {Hex(bridge.Tgt)}."));
        }
        if (atsd.LinkSpeed != bridge.LinkSpeed)
        {
            yield return new Finding(Severity.Error, "vfio-link-speed-mismatch", at,
                $"Domain '{domain}': bridge {at}: VFIO reports link speed {atsd.LinkSpeed?.ToString(CultureInfo.InvariantCulture) ?? "(none)"} but ibm,nvlink-speed is {bridge.LinkSpeed?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}; the guest driver would train the link wrongly.");
        }
        if (atsd.Size == 0)
        {
            yield return new Finding(Severity.Warning, "vfio-atsd-empty", at,
                $"Domain '{domain}': bridge {at}: the ATSD region is empty (no ATSD register); the guest falls back to slower TLB invalidation.");
        }
    }

    private static string Hex(ulong? v) => v is { } x ? "0x" + x.ToString("x", CultureInfo.InvariantCulture) : "(none)";
}
