"""Servers with a Grace Hopper GPU on a simulated GH200 (aarch64), through Nova's own code and fakelibvirt: the
defined domain gives the guest one memory-less NUMA node per generic-initiator node of the GPU, after the cells
Nova generated, which stay exactly as Nova wrote them."""

from typing import Any, Dict, List

from lxml import etree
from oslo_serialization import jsonutils
from oslo_utils import versionutils

from harness import NvlinkServersTestBase, topology

GH200_ALIAS = "gh200"


def _cells(domain: etree._Element) -> List[etree._Element]:
    return domain.findall("./cpu/numa/cell")


class GraceServersTest(NvlinkServersTestBase):

    LAYOUT = "grace-hopper-1gpu"
    ARCH = "aarch64"
    # libvirt 11.8 writes the generic-initiator objects itself (<acpi nodeset>); QEMU 9.2 has them.
    LIBVIRT = versionutils.convert_version_to_int((11, 8, 0))
    QEMU = versionutils.convert_version_to_int((9, 2, 0))

    def device_specs(self) -> List[str]:
        return [jsonutils.dumps({"vendor_id": "10de", "product_id": "2342"})]

    def aliases(self) -> List[str]:
        return [jsonutils.dumps({"vendor_id": "10de", "product_id": "2342", "device_type": "type-PCI", "name": GH200_ALIAS})]

    def setUp(self) -> None:
        super().setUp()
        gpus = topology(self.host_root)["graceGpus"]
        self.assertEqual(1, len(gpus))
        self.gpu: Dict[str, Any] = gpus[0]

    def _boot(self, **extra_specs: str) -> Dict[str, Any]:
        self.start_simulated_compute(libvirt_version=self.LIBVIRT, qemu_version=self.QEMU)
        flavor = self._create_flavor(extra_spec=dict({"pci_passthrough:alias": GH200_ALIAS + ":1"}, **extra_specs))
        server = self._create_server(flavor_id=flavor, networks="none")
        self._reboot_server(server, hard=True)
        return server

    def assert_generic_initiator_nodes(self, domain: etree._Element, nova_cells: List[bytes]) -> None:
        cells = _cells(domain)
        # Nova's cells first, byte for byte as Nova generated them.
        self.assertEqual(nova_cells, [etree.tostring(c, with_tail=False) for c in cells[:len(nova_cells)]])
        added = cells[len(nova_cells):]
        self.assertEqual(len(self.gpu["giNodes"]), len(added), "one guest node per generic-initiator node")
        self.assertEqual([str(i) for i in range(len(nova_cells), len(cells))], [c.get("id") for c in added])
        for cell in added:
            self.assertEqual("0", cell.get("memory"))
            self.assertIsNone(cell.get("cpus"))
        hostdev = domain.find("./devices/hostdev[@type='pci']")
        nodeset = hostdev.find("./acpi")
        self.assertIsNotNone(nodeset, "the GPU hostdev names its nodes")
        self.assertEqual("%s-%s" % (added[0].get("id"), added[-1].get("id")), nodeset.get("nodeset"))
        self.assertEqual("nvgrace_gpu_vfio_pci", hostdev.find("./driver").get("model"))

    def test_a_gh200_server_gets_the_gpus_generic_initiator_nodes_on_boot_and_hard_reboot(self) -> None:
        server = self._boot()
        definitions = self.definitions_of(server)
        self.assertEqual(2, len(definitions))
        for domain, generated in zip(definitions, self.generated):
            # A guest without hw:numa_nodes has no NUMA of Nova's: transform adds cell 0 holding all vCPUs and
            # memory (QEMU requires one), then the GPU's nodes.
            self.assertEqual([], _cells(etree.fromstring(generated.encode())))
            first = _cells(domain)[0]
            self.assertEqual("0", first.get("id"))
            self.assertEqual("0-1", first.get("cpus"))
            self.assert_generic_initiator_nodes(domain, [etree.tostring(first, with_tail=False)])

    def test_with_hw_numa_nodes_novas_cells_stay_and_the_gpu_nodes_follow_them(self) -> None:
        server = self._boot(**{"hw:numa_nodes": "1"})
        definitions = self.definitions_of(server)
        self.assertEqual(2, len(definitions))
        for domain, generated in zip(definitions, self.generated):
            nova_cells = [etree.tostring(c, with_tail=False) for c in _cells(etree.fromstring(generated.encode()))]
            self.assertEqual(1, len(nova_cells), "Nova generated one guest cell for hw:numa_nodes=1")
            self.assert_generic_initiator_nodes(domain, nova_cells)
            # Nova pins its cell to a host node; the pinning stays as Nova wrote it.
            self.assertEqual(etree.tostring(etree.fromstring(generated.encode()).find("./numatune"), with_tail=False),
                             etree.tostring(domain.find("./numatune"), with_tail=False))
