using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Preflight;

/// <summary>
/// What the host offers for iommufd and nested SMMUv3, read for the preflight: /dev/iommu (present while iommufd is
/// loaded), each device's VFIO cdev (/sys/bus/pci/devices/BDF/vfio-dev/vfioN with /dev/vfio/devices/vfioN: what
/// libvirt opens for an iommufd hostdev), and the kernel's configuration when it can be read (null: unknown).
/// </summary>
/// <param name="VfioCdevs">Device → its cdev name (vfioN), for the devices that have one; read for the domain's PCI hostdevs.</param>
public sealed record IommufdHostFacts(bool HasDevIommu, IReadOnlyDictionary<PciAddress, string> VfioCdevs, KernelConfig? KernelConfig);
