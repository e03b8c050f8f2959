/* The vendor and device IDs the hook looks at: the same list as src/LibvirtNvlink.Core/Pci/PciIds.cs.
 * HookFrontTests.The_fronts_device_ids_are_PciIds fails when the two differ. */
#ifndef LIBVIRT_NVLINK_PCI_IDS_H
#define LIBVIRT_NVLINK_PCI_IDS_H

#define LVN_VENDOR_NVIDIA 0x10de
#define LVN_VENDOR_IBM 0x1014

/* Tesla V100 SXM2 (NVLink2 GPU) and the Grace Hopper / Grace Blackwell GPUs. */
static const int lvn_nvidia_devices[] = { 0x1db1, 0x2342, 0x2345, 0x2348, 0x2941, 0x31c2 };

/* POWER9 NPU2 NVLink bridge. */
static const int lvn_ibm_devices[] = { 0x04ea };

#endif
