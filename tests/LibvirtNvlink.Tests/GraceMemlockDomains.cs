using System.Globalization;
using System.Text;

namespace LibvirtNvlink.Tests;

/// <summary>Where the Grace GPUs of a test domain sit and which vIOMMU, if any, they are behind.</summary>
public enum GuestIommuLayout
{
    /// <summary>No &lt;iommu&gt;; hostdevs without guest addresses.</summary>
    Flat,

    /// <summary>A pxb-pcie and a root port per GPU, with an accelerated SMMUv3 (accel='on') on each expander.</summary>
    AcceleratedSmmuPerExpander,

    /// <summary>The same expanders with a plain (emulated) SMMUv3 on each.</summary>
    PlainSmmuPerExpander,

    /// <summary>One machine-wide virtio-iommu, hostdevs without guest addresses.</summary>
    VirtioIommu,
}

/// <summary>How the test domain's hostdevs reach VFIO.</summary>
public enum GuestVfioBackend
{
    Legacy,
    IommufdPerHostdev,
    IommufdDomainWide,
}

/// <summary>aarch64 virt domains assigning Grace GPUs, for the memlock tests.</summary>
public static class GraceMemlockDomains
{
    public static readonly string[] Gb200 = ["0008:01:00.0", "0009:01:00.0", "0018:01:00.0", "0019:01:00.0"];

    public const string Gh200 = "0009:01:00.0";

    public static string GuestXml(ulong memoryMiB, IReadOnlyList<string> gpus, GuestIommuLayout layout, GuestVfioBackend backend, string extra = "")
    {
        var inv = CultureInfo.InvariantCulture;
        var devices = new StringBuilder();
        var expanders = layout is GuestIommuLayout.AcceleratedSmmuPerExpander or GuestIommuLayout.PlainSmmuPerExpander;
        if (expanders)
        {
            devices.Append("    <controller type='pci' index='0' model='pcie-root'/>\n");
            for (var i = 0; i < gpus.Count; i++)
            {
                devices.Append(inv, $"    <controller type='pci' index='{1 + i}' model='pcie-expander-bus'><model name='pxb-pcie'/><target busNr='{254 - 8 * i}'/>" +
                                    $"<address type='pci' domain='0x0000' bus='0x00' slot='0x{i + 1:x2}' function='0x0'/></controller>\n");
                devices.Append(inv, $"    <controller type='pci' index='{1 + gpus.Count + i}' model='pcie-root-port'>" +
                                    $"<address type='pci' domain='0x0000' bus='0x{1 + i:x2}' slot='0x00' function='0x0'/></controller>\n");
            }
        }
        for (var i = 0; i < gpus.Count; i++)
        {
            var p = gpus[i].Split(':', '.');
            var driver = backend == GuestVfioBackend.IommufdPerHostdev ? "<driver iommufd='yes'/>" : "";
            var address = expanders ? string.Create(inv, $"<address type='pci' domain='0x0000' bus='0x{1 + gpus.Count + i:x2}' slot='0x00' function='0x0'/>") : "";
            devices.Append($"    <hostdev mode='subsystem' type='pci' managed='no'>{driver}<source><address domain='0x{p[0]}' bus='0x{p[1]}' slot='0x{p[2]}' function='0x{p[3]}'/></source>{address}</hostdev>\n");
        }
        if (expanders)
        {
            var accel = layout == GuestIommuLayout.AcceleratedSmmuPerExpander ? " accel='on'" : "";
            for (var i = 0; i < gpus.Count; i++) devices.Append(inv, $"    <iommu model='smmuv3'><driver pciBus='{1 + i}'{accel}/></iommu>\n");
        }
        if (layout == GuestIommuLayout.VirtioIommu) devices.Append("    <iommu model='virtio'/>\n");
        var iommufd = backend == GuestVfioBackend.IommufdDomainWide ? "\n  <iommufd enabled='yes'/>" : "";
        return $"""
            <domain type='kvm'>
              <name>grace-memlock</name>
              <memory unit='MiB'>{memoryMiB.ToString(inv)}</memory>
              <vcpu>4</vcpu>{extra}{iommufd}
              <os>
                <type arch='aarch64' machine='virt'>hvm</type>
              </os>
              <devices>
            {devices}  </devices>
            </domain>
            """;
    }
}
