"""What the functional tests share: Nova's own functional libvirt harness (fakelibvirt) with
LibvirtNvlinkDriver as compute_driver, a fake host whose PCI devices are those of a simulated host written by
``libvirt-nvlink simulate-host``, and a record of every XML Nova hands to (fake) libvirt's defineXML.

scripts/test-nova.sh sets the environment: LIBVIRT_NVLINK_CLI (the built CLI) and LIBVIRT_NVLINK_NOVA_API_PASTE
(Debian's api-paste.ini; Nova's harness expects the one of a source tree). Missing either fails the tests.
"""

import atexit
import copy
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Optional

import fixtures
from lxml import etree
from oslo_serialization import jsonutils

from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.libvirt import base
from nova.virt.libvirt import driver as libvirt_driver
# Imported from where Nova's own package lives (scripts/test-nova.sh installs it there); importing it registers
# the [libvirt_nvlink] options the tests set.
from nova.virt.libvirt_nvlink import driver as nvlink_driver  # noqa: F401

V100_ALIAS = "v100nv2"
V100_DEVICE_SPEC = jsonutils.dumps({"vendor_id": "10de", "product_id": "1db1"})
V100_ALIAS_SPEC = jsonutils.dumps(
    {"vendor_id": "10de", "product_id": "1db1", "device_type": "type-PCI", "name": V100_ALIAS})


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise AssertionError("%s is not set: run these tests through scripts/test-nova.sh" % name)
    return value


def cli() -> str:
    path = required_env("LIBVIRT_NVLINK_CLI")
    if not os.access(path, os.X_OK):
        raise AssertionError("LIBVIRT_NVLINK_CLI=%s is not an executable; build src/LibvirtNvlink.Cli first" % path)
    return path


_simulated: Dict[str, str] = {}


def simulated_host(layout: str) -> str:
    """A host root written by the CLI for a built-in layout, once per test process, removed at exit."""
    if layout not in _simulated:
        work = tempfile.mkdtemp(prefix="lvn-nova-%s-" % layout)
        atexit.register(shutil.rmtree, work, True)
        root = os.path.join(work, "host")
        subprocess.run([cli(), "simulate-host", "--layout", layout, "-o", root], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _simulated[layout] = root
    return _simulated[layout]


def topology(host_root: str) -> Dict[str, Any]:
    """The CLI's own discovery of the host: the oracle for which bridges belong to which GPU. Exit 1 only
    means findings (e.g. a driver binding), not a failure to read the host."""
    r = subprocess.run([cli(), "topology", "--json", "--host-root", host_root], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=False)
    if r.returncode not in (0, 1):
        raise AssertionError("libvirt-nvlink topology failed: %s" % r.stderr)
    result: Dict[str, Any] = json.loads(r.stdout)
    return result


class SimulatedPciDevice(fakelibvirt.FakePCIDevice):
    """A fakelibvirt PCI device at any PCI domain (fakelibvirt's own template hard-codes domain 0, and the
    AC922's GPUs sit in domains 0004-0007, their bridges in 0006/0007)."""

    template = """<device>
  <name>%(name)s</name>
  <path>/sys/devices/pci%(domain)04x:%(bus)02x/%(address)s</path>
  <parent>computer</parent>
  <driver><name>%(driver)s</name></driver>
  <capability type='pci'>
    <domain>%(domain)d</domain>
    <bus>%(bus)d</bus>
    <slot>%(slot)d</slot>
    <function>%(function)d</function>
    <product id='0x%(prod_id)s'/>
    <vendor id='0x%(vend_id)s'/>
    <iommuGroup number='%(iommu_group)d'>
      <address domain='%(domain)#06x' bus='%(bus)#04x' slot='%(slot)#04x' function='%(function)#x'/>
    </iommuGroup>
    %(numa)s
  </capability>
</device>"""

    def __init__(self, domain: int, **kwargs: Any) -> None:
        self.pci_domain = domain
        super().__init__(dev_type="PCI", **kwargs)

    def generate_xml(self, skip_capability: bool = False) -> None:
        self.pci_device = self.template % {
            "name": self.nodedev_name, "address": self.address, "domain": self.pci_domain, "bus": self.bus,
            "slot": self.slot, "function": self.function, "prod_id": self.prod_id, "vend_id": self.vend_id,
            "driver": self.driver_name or "vfio-pci", "iommu_group": self.iommu_group,
            # libvirt omits <numa> for devices without NUMA affinity (-1 in sysfs).
            "numa": "" if self.numa_node < 0 else "<numa node='%d'/>" % self.numa_node,
        }

    @property
    def address(self) -> str:
        return "%04x:%02x:%02x.%x" % (self.pci_domain, self.bus, self.slot, self.function)

    @property
    def nodedev_name(self) -> str:
        return "pci_%04x_%02x_%02x_%x" % (self.pci_domain, self.bus, self.slot, self.function)


class SimulatedHostPciDevices(fakelibvirt.HostPCIDevicesInfo):
    """fakelibvirt's PCI device pool read from a simulated host root's sysfs, so the addresses, IDs, IOMMU
    groups and NUMA nodes Nova sees are exactly those the transform reads from the same root."""

    def __init__(self, host_root: str) -> None:
        super().__init__(num_pci=0, num_pfs=0, num_vfs=0)
        devices_dir = os.path.join(host_root, "sys/bus/pci/devices")
        for address in sorted(os.listdir(devices_dir)):
            d = os.path.join(devices_dir, address)
            domain, bus, slot_function = address.split(":")
            slot, function = slot_function.split(".")
            group = os.path.join(d, "iommu_group")
            driver = os.path.join(d, "driver")
            dev = SimulatedPciDevice(
                int(domain, 16), bus=int(bus, 16), slot=int(slot, 16), function=int(function, 16),
                iommu_group=int(os.path.basename(os.readlink(group))) if os.path.islink(group) else -1,
                numa_node=int(_read(d, "numa_node") or "-1"),
                vend_id=_read(d, "vendor")[2:], prod_id=_read(d, "device")[2:],
                driver_name=os.path.basename(os.readlink(driver)) if os.path.islink(driver) else "none")
            self.devices[dev.nodedev_name] = dev


def _read(device_dir: str, name: str) -> str:
    path = os.path.join(device_dir, name)
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read().strip()


# fakelibvirt's ppc64le host is a stub without NUMA cells, which Nova's resource tracker needs; this is the
# <host> part of `virsh capabilities` on a POWER9 (AC922) in fakelibvirt's template form.
POWER9_HOST_CAPABILITIES = """
  <host>
    <uuid>cef19ce0-0ca2-11df-855d-b19fbce37686</uuid>
    <cpu>
      <arch>ppc64le</arch>
      <model>POWER9</model>
      <vendor>IBM</vendor>
      <topology sockets='%(sockets)s' cores='%(cores)s' threads='%(threads)s'/>
      <pages unit='KiB' size='64'/>
      <pages unit='KiB' size='2048'/>
      <pages unit='KiB' size='1048576'/>
    </cpu>
    <power_management/>
    <iommu support='yes'/>
    %(topology)s
  </host>"""

# fakelibvirt knows only the 32-bit 'ppc' guest; an AC922's libvirt offers ppc64/ppc64le pseries guests under KVM.
POWER9_GUEST_CAPABILITIES = """
        <guest>
          <os_type>hvm</os_type>
          <arch name='ppc64le'>
            <wordsize>64</wordsize>
            <emulator>/usr/bin/qemu-system-ppc64</emulator>
            <machine maxCpus='2048'>pseries-7.2</machine>
            <machine canonical='pseries-7.2' maxCpus='2048'>pseries</machine>
            <domain type='qemu'/>
            <domain type='kvm'/>
          </arch>
        </guest>"""

# What getDomainCapabilities answers for that guest: fakelibvirt's own answer for its other 64-bit non-x86 guest
# (aarch64, with its device and feature lists Nova's start-up reads), under the POWER9 guest's names.
POWER9_DOMAIN_CAPABILITIES = fakelibvirt.fake_libvirt_data.DOMCAPABILITIES_AARCH64.replace(
    "<path>/usr/bin/qemu-system-aarch64</path>", "<path>/usr/bin/qemu-system-ppc64</path>").replace(
    "<domain>qemu</domain>", "<domain>kvm</domain>").replace(
    "<machine>virt-5.1</machine>", "<machine>pseries-7.2</machine>").replace(
    "<arch>aarch64</arch>", "<arch>ppc64le</arch>")


class NvlinkServersTestBase(base.ServersTestBase):
    """Nova's functional libvirt test base, running LibvirtNvlinkDriver on a simulated host."""

    microversion = "latest"
    ADMIN_API = True
    ADDITIONAL_FILTERS = ["NUMATopologyFilter", "PciPassthroughFilter"]
    LAYOUT = "witherspoon-6gpu"
    ARCH = "ppc64le"
    MEMLOCK = "auto"
    IMAGE_ID = "5b2c1cd6-3c1e-4a3b-9d9a-6f7e1e0c2a11"

    def setUp(self) -> None:
        self.host_root = simulated_host(self.LAYOUT)
        self.flags(api_paste_config=required_env("LIBVIRT_NVLINK_NOVA_API_PASTE"), group="wsgi")
        self.flags(device_spec=self.device_specs(), alias=self.aliases(), group="pci")
        super().setUp()
        self.flags(binary=cli(), host_root=self.host_root, memlock=self.MEMLOCK, group="libvirt_nvlink")
        # A POWER9 (or Grace) compute host: fakelibvirt answers getCapabilities for os.uname()'s machine.
        self.libvirt.mock_uname.return_value = fakelibvirt.os_uname(
            "Linux", "", "5.4.0-0-generic", "", self.ARCH)
        data = fakelibvirt.fake_libvirt_data
        for name, extra in (("CAPABILITIES_HOST_TEMPLATES", POWER9_HOST_CAPABILITIES),
                            ("CAPABILITIES_GUEST", POWER9_GUEST_CAPABILITIES),
                            ("STATIC_DOMCAPABILITIES", POWER9_DOMAIN_CAPABILITIES)):
            self.useFixture(fixtures.MockPatchObject(data, name, dict(getattr(data, name), ppc64le=extra)))
        # Nova takes the guest architecture from the image (the harness's images say x86_64): an image for this
        # host, as an operator uploads with --property architecture=ppc64le (or aarch64).
        image = copy.deepcopy(self.glance.image1)
        image["id"] = self.IMAGE_ID
        image["properties"] = {"architecture": self.ARCH}
        self.glance.create(None, image)
        self.defined: List[str] = []
        self.generated: List[str] = []
        self._record_definitions()

    def device_specs(self) -> List[str]:
        return [V100_DEVICE_SPEC]

    def aliases(self) -> List[str]:
        return [V100_ALIAS_SPEC]

    def _setup_compute_service(self) -> None:
        # Nova prefixes "nova.virt.": this is the installed nova/virt/libvirt_nvlink package.
        self.flags(compute_driver="libvirt_nvlink.LibvirtNvlinkDriver")

    def _record_definitions(self) -> None:
        """Keeps every XML handed to defineXML, and every XML stock LibvirtDriver generated before ours.

        fakelibvirt's Domain.XMLDesc renders a fixed template (no hostdevs, machine pc-0.12) instead of the
        definition; real libvirt returns what was defined, and Nova relies on that: rescue saves it and unrescue
        defines it again. So XMLDesc answers with the last definition of the domain, as libvirt does.
        """
        define = fakelibvirt.Connection.defineXML
        describe = fakelibvirt.Domain.XMLDesc
        generate = libvirt_driver.LibvirtDriver._get_guest_xml
        test = self
        stored: Dict[str, str] = {}

        def recording_define(conn: Any, xml: str) -> Any:
            test.defined.append(xml)
            dom = define(conn, xml)
            stored[dom.name()] = xml
            return dom

        def stored_definition(dom: Any, flags: int) -> str:
            return stored.get(dom.name()) or describe(dom, flags)

        def recording_generate(driver: Any, *args: Any, **kwargs: Any) -> str:
            xml: str = generate(driver, *args, **kwargs)
            test.generated.append(xml)
            return xml

        self.stub_out("nova.tests.fixtures.libvirt.Connection.defineXML", recording_define)
        self.stub_out("nova.tests.fixtures.libvirt.Domain.XMLDesc", stored_definition)
        self.stub_out("nova.virt.libvirt.driver.LibvirtDriver._get_guest_xml", recording_generate)

    def start_simulated_compute(self, hostname: str = "compute1", **kwargs: Any) -> str:
        self.start_compute(
            hostname=hostname, pci_info=SimulatedHostPciDevices(self.host_root),
            host_info=fakelibvirt.HostInfo(cpu_nodes=2, cpu_sockets=1, cpu_cores=2, cpu_threads=2), **kwargs)
        # Nova's own loader (load_compute_driver: "nova.virt." + compute_driver) found the installed package in
        # the directory of Nova's own drivers.
        driver = self.computes[hostname].driver
        self.assertIsInstance(driver, nvlink_driver.LibvirtNvlinkDriver)
        self.assertEqual(os.path.dirname(os.path.dirname(os.path.abspath(libvirt_driver.__file__))),
                         os.path.dirname(os.path.dirname(os.path.abspath(nvlink_driver.__file__))))
        return hostname

    def _create_server(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        kwargs.setdefault("image_uuid", self.IMAGE_ID)
        server: Dict[str, Any] = super()._create_server(*args, **kwargs)
        return server

    def definitions_of(self, server: Dict[str, Any]) -> List[etree._Element]:
        uuid = server["id"]
        trees = [etree.fromstring(x.encode("utf-8")) for x in self.defined]
        return [t for t in trees if t.findtext("uuid") == uuid]

    def server_fault(self, server: Dict[str, Any]) -> Optional[str]:
        fault = self.api.get_server(server["id"]).get("fault")
        return fault["message"] if fault else None
