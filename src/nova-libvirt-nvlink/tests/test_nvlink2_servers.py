"""Servers with an NVLink2 V100 on a simulated AC922 (POWER9, ppc64le), through Nova's own compute manager,
libvirt driver and fakelibvirt: every XML Nova hands to libvirt's define is already complete."""

from typing import Any, Dict, List, Set

from lxml import etree
from oslo_serialization import jsonutils

from harness import NvlinkServersTestBase, V100_ALIAS, topology


def _address(element: etree._Element) -> str:
    return "%04x:%02x:%02x.%x" % tuple(int(element.get(k), 16) for k in ("domain", "bus", "slot", "function"))


class Nvlink2ServersTest(NvlinkServersTestBase):

    def setUp(self) -> None:
        super().setUp()
        self.host = topology(self.host_root)
        self.bridges_of = {g["address"]: set(g["bridges"]) for g in self.host["gpus"] if g["nvlink2"]}
        self.group_of = {g["address"]: g["iommuGroup"] for g in self.host["gpus"]}
        self.assertGreater(len(self.bridges_of), 0, "the simulated AC922 has no NVLink2 GPU")

    def _gpu_flavor(self, count: int = 1, memory_mb: int = 2048) -> str:
        return self._create_flavor(memory_mb=memory_mb, extra_spec={"pci_passthrough:alias": "%s:%d" % (V100_ALIAS, count)})

    def assert_complete(self, domain: etree._Element, gpus: int) -> None:
        """Every assigned V100 has all its NPU bridges, on one guest PHB per host IOMMU group."""
        hostdevs = domain.findall("./devices/hostdev[@type='pci']")
        sources = {_address(h.find("./source/address")): h for h in hostdevs}
        assigned = [a for a in sources if a in self.bridges_of]
        self.assertEqual(gpus, len(assigned), "GPUs in the defined domain:\n" + etree.tostring(domain).decode())
        phbs = {int(c.find("./target").get("index")): c for c in domain.findall("./devices/controller[@model='pci-root']")
                if c.find("./model[@name='spapr-pci-host-bridge']") is not None}
        phb_of_group: Dict[int, int] = {}
        for gpu in assigned:
            self.assertLessEqual(self.bridges_of[gpu], set(sources), "bridges of GPU %s" % gpu)
            buses: Set[int] = set()
            for member in {gpu} | self.bridges_of[gpu]:
                guest = sources[member].find("./address[@type='pci']")
                self.assertIsNotNone(guest, "%s has no guest PCI address" % member)
                buses.add(int(guest.get("bus"), 16))
            self.assertEqual(1, len(buses), "GPU %s and its bridges share one guest PHB" % gpu)
            phb = buses.pop()
            self.assertIn(phb, phbs, "guest bus %d of GPU %s is an spapr-pci-host-bridge" % (phb, gpu))
            self.assertNotEqual(0, phb, "GPU %s is not on the default PHB" % gpu)
            group = self.group_of[gpu]
            self.assertEqual(phb_of_group.setdefault(group, phb), phb, "one PHB per IOMMU group")
        self.assertEqual(len(phb_of_group), len(set(phb_of_group.values())), "IOMMU groups do not share a PHB")
        self.assertIsNotNone(domain.find("./metadata/{http://libvirt-nvlink.org/xmlns/domain/1.0}nvlink"))

    def hard_limit(self, domain: etree._Element) -> Any:
        return domain.find("./memtune/hard_limit")

    def test_boot_hard_reboot_and_rescue_define_complete_domains(self) -> None:
        self.start_simulated_compute()
        server = self._create_server(flavor_id=self._gpu_flavor(), networks="none")
        self._reboot_server(server, hard=True)
        self.api.post_server_action(server["id"], {"rescue": {}})
        server = self._wait_for_state_change(server, "RESCUE")
        self.api.post_server_action(server["id"], {"unrescue": None})
        server = self._wait_for_state_change(server, "ACTIVE")

        definitions = self.definitions_of(server)
        # spawn, hard reboot, rescue, unrescue: four definitions, each complete before libvirt saw it.
        self.assertEqual(4, len(definitions), "defineXML calls for the server")
        for domain in definitions:
            self.assert_complete(domain, gpus=1)
            # Nova 26 needs libvirt >= 6.0, which computes the NVLink2 limit itself: auto writes no hard_limit.
            self.assertIsNone(self.hard_limit(domain))

    def test_two_gpus_in_one_server_get_their_own_phbs(self) -> None:
        self.start_simulated_compute()
        server = self._create_server(flavor_id=self._gpu_flavor(count=2), networks="none")
        self._reboot_server(server, hard=True)
        definitions = self.definitions_of(server)
        self.assertEqual(2, len(definitions))
        for domain in definitions:
            self.assert_complete(domain, gpus=2)

    def test_cold_migrate_and_resize_define_complete_domains_on_the_destination(self) -> None:
        self.start_simulated_compute("compute1")
        self.start_simulated_compute("compute2")
        server = self._create_server(flavor_id=self._gpu_flavor(), networks="none", host="compute1")
        source = server["OS-EXT-SRV-ATTR:host"]
        # Nova's own PCI tests stub this: the fake host has no disks to move.
        self.stub_out("nova.virt.libvirt.driver.LibvirtDriver.migrate_disk_and_power_off", lambda *a, **k: "{}")
        server = self._migrate_server(server)
        self.assertNotEqual(source, server["OS-EXT-SRV-ATTR:host"])
        self._confirm_resize(server)
        server = self._resize_server(server, self._gpu_flavor(memory_mb=4096))
        self._confirm_resize(server)

        definitions = self.definitions_of(server)
        # spawn, finish_migration of the cold migration, finish_migration of the resize.
        self.assertEqual(3, len(definitions))
        for domain in definitions:
            self.assert_complete(domain, gpus=1)
        self.assertEqual("4194304", definitions[-1].findtext("memory"), "the resized domain has the new flavor's memory")


class Nvlink2MemlockWriteTest(NvlinkServersTestBase):
    """[libvirt_nvlink] memlock = write: the mode for a target libvirt older than 5.3 (which cannot compute the
    NVLink2 limit) — Nova 26 refuses to run on such a libvirt, so 'write' stands in for it here."""

    MEMLOCK = "write"

    def test_every_definition_carries_the_hard_limit(self) -> None:
        self.start_simulated_compute()
        flavor = self._create_flavor(extra_spec={"pci_passthrough:alias": "%s:1" % V100_ALIAS})
        server = self._create_server(flavor_id=flavor, networks="none")
        self._reboot_server(server, hard=True)
        definitions = self.definitions_of(server)
        self.assertEqual(2, len(definitions))
        limits: List[int] = []
        for domain in definitions:
            limit = domain.find("./memtune/hard_limit")
            self.assertIsNotNone(limit, "hard_limit in the defined domain")
            self.assertEqual("KiB", limit.get("unit"))
            limits.append(int(limit.text))
        # A 2 GiB guest with one NVLink2 GPU needs far more than its RAM (256 GiB of TCE table per PHB).
        self.assertGreater(min(limits), 256 * 1024 * 1024)


class DomainsWithoutOurDevicesTest(NvlinkServersTestBase):
    """A server without NVLink2 or Grace devices is defined exactly as stock LibvirtDriver generated it."""

    def test_a_server_without_host_devices_is_defined_byte_for_byte_as_stock_nova_generated_it(self) -> None:
        self.start_simulated_compute()
        server = self._create_server(flavor_id=self._create_flavor(), networks="none")
        self._reboot_server(server, hard=True)
        self.assertEqual(2, len(self.defined))
        self.assertEqual(self.generated, self.defined)


class PcieGpuServersTest(NvlinkServersTestBase):
    """A V100 on plain PCIe (no NVLink2) on an x86 host: the domain has a PCI hostdev, so transform runs, and it
    is not one of ours, so transform hands back Nova's XML unchanged."""

    LAYOUT = "x86-pcie-v100"
    ARCH = "x86_64"

    def device_specs(self) -> List[str]:
        return [jsonutils.dumps({"vendor_id": "10de", "product_id": "1db4"})]

    def aliases(self) -> List[str]:
        return [jsonutils.dumps({"vendor_id": "10de", "product_id": "1db4", "device_type": "type-PCI", "name": "v100pcie"})]

    def test_a_server_with_a_gpu_that_is_not_ours_is_defined_byte_for_byte_as_stock_nova_generated_it(self) -> None:
        self.start_simulated_compute()
        server = self._create_server(flavor_id=self._create_flavor(extra_spec={"pci_passthrough:alias": "v100pcie:1"}),
                                     networks="none")
        self._reboot_server(server, hard=True)
        self.assertEqual(2, len(self.defined))
        for xml in self.defined:
            self.assertIsNotNone(etree.fromstring(xml.encode()).find("./devices/hostdev[@type='pci']"))
        self.assertEqual(self.generated, self.defined)


class RefusalTest(NvlinkServersTestBase):
    """transform's refusal stops the operation before libvirt sees the domain, and its message is the fault."""

    ARCH = "x86_64"

    def test_a_refused_domain_is_never_defined_and_the_fault_is_transforms_message(self) -> None:
        # Without rescheduling the build's fault is the compute host's own; with it, Nova records the same message
        # on the instance and then ends with 'Exceeded maximum number of retries' (docs/nova.md).
        self.flags(max_attempts=1, group="scheduler")
        self.start_simulated_compute()
        flavor = self._create_flavor(extra_spec={"pci_passthrough:alias": "%s:1" % V100_ALIAS})
        server = self._create_server(flavor_id=flavor, networks="none", expected_state="ERROR")
        self.assertEqual([], self.definitions_of(server))
        # An x86 guest cannot have NVLink2: transform names the domain, the device and the fix (a pseries guest).
        self.assertRegex(self.server_fault(server) or "",
                         r"^libvirt-nvlink transform: domain 'instance-[0-9a-f]+': assigns NVLink2 GPU [0-9a-f:.]+ but is "
                         r"arch='x86_64' machine='pc'.*NVLink2 passthrough needs a ppc64 pseries guest")
