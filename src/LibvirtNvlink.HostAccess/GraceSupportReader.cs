using System.Text;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Reads what the kernel offers the production Grace layout. iommufd shows as /dev/iommu. Nested SMMUv3 has no sysfs
/// trace (only the IOMMU_GET_HW_INFO ioctl on a bound device tells), so it is read from the kernel's build config where
/// distributions keep it (/boot/config-RELEASE); without a readable config it stays unknown.
/// </summary>
public static class GraceSupportReader
{
    /// <summary>The config option of the SMMUv3 driver's iommufd (vIOMMU, nested) support.</summary>
    public const string NestedSmmuv3Option = "CONFIG_ARM_SMMU_V3_IOMMUFD";

    /// <summary>Kernel configs run to a few hundred KiB; the cap keeps a hostile file from being read whole.</summary>
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    public static GraceHostSupport Read(HostRoot root, string? kernelRelease)
    {
        var iommufd = root.Exists("/dev/iommu");
        return new GraceHostSupport(iommufd, KernelConfigOption(root, kernelRelease, NestedSmmuv3Option) is { } v ? v is "y" or "m" : null);
    }

    /// <summary>The value of a kernel config option ("y", "m", a string), "n" when the config says it is not set, null when no config is readable.</summary>
    public static string? KernelConfigOption(HostRoot root, string? kernelRelease, string option)
    {
        if (kernelRelease is null) return null;
        byte[]? bytes;
        try { bytes = root.ReadBytesAt(root.Map($"/boot/config-{kernelRelease.Trim()}"), MaxConfigBytes); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        if (bytes is null) return null;
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            if (line.StartsWith(option + "=", StringComparison.Ordinal)) return line[(option.Length + 1)..].Trim();
            if (line == $"# {option} is not set") return "n";
        }
        return "n";
    }
}
