"""How the driver runs the CLI and what Nova sees when it cannot: without Nova's services, with the real CLI where
the outcome is the CLI's, and with a stand-in only for a CLI that hangs or crashes, which the real one must not."""

import os
import stat
import time
from typing import List

import fixtures
import testtools

from harness import cli, simulated_host
from nova.virt.libvirt_nvlink import conf as nvlink_conf
from nova.virt.libvirt_nvlink import exception
from nova.virt.libvirt_nvlink import transform

PSERIES_WITHOUT_DEVICES = """<domain type="kvm">
  <name>instance-00000001</name>
  <os><type arch="ppc64le" machine="pseries">hvm</type></os>
  <devices><disk type="file" device="disk"><target dev="vda" bus="virtio"/></disk></devices>
</domain>
"""

PSERIES_WITH_V100 = """<domain type="kvm">
  <name>instance-00000002</name>
  <memory>2097152</memory>
  <os><type arch="ppc64le" machine="pseries">hvm</type></os>
  <devices>
    <hostdev mode="subsystem" type="pci" managed="yes">
      <source><address domain="0x0004" bus="0x04" slot="0x00" function="0x0"/></source>
    </hostdev>
  </devices>
</domain>
"""


class TransformRunnerTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path

    def settings(self, binary: str, timeout: int = 60) -> transform.TransformSettings:
        return transform.TransformSettings(binary=binary, host_root=simulated_host("witherspoon-6gpu"),
                                           memlock="auto", timeout=timeout)

    def script(self, body: str) -> str:
        path = os.path.join(self.work, "libvirt-nvlink")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, stat.S_IRWXU)
        return path

    def test_the_grace_layout_option_reaches_the_cli(self) -> None:
        # The CLI checks its arguments: a layout it did not know would fail the transform, so this one runs it too.
        settings = self.settings(cli())._replace(grace_layout="flat")
        argv = transform.command(settings, "12.8.0", "11.1.3")
        self.assertEqual(["--grace-layout", "flat"], argv[argv.index("--grace-layout"):argv.index("--grace-layout") + 2])
        xml = transform.complete(PSERIES_WITH_V100, "uuid", settings, "12.8.0", "11.1.3")
        self.assertIn("spapr-pci-host-bridge", xml)

    def test_a_domain_without_hostdevs_is_returned_without_running_anything(self) -> None:
        # The binary does not exist: had complete() tried to run it, it would have raised.
        xml = transform.complete(PSERIES_WITHOUT_DEVICES, "uuid", self.settings("/nonexistent/libvirt-nvlink"), "9.0.0", "7.2.0")
        self.assertIs(PSERIES_WITHOUT_DEVICES, xml)

    def test_a_v100_domain_comes_back_completed_by_the_cli(self) -> None:
        xml = transform.complete(PSERIES_WITH_V100, "uuid", self.settings(cli()), "9.0.0", "7.2.0")
        self.assertIn("spapr-pci-host-bridge", xml)
        # The bridges transform adds follow the document's own quote style: Nova writes double quotes.
        self.assertIn('<address domain="0x0006" bus="0x00" slot="0x00" function="0x0"/>', xml)

    def test_a_refusal_carries_transforms_message_only(self) -> None:
        x86 = PSERIES_WITH_V100.replace('arch="ppc64le" machine="pseries"', 'arch="x86_64" machine="q35"')
        e = self.assertRaises(exception.LibvirtNvlinkRefused, transform.complete, x86, "uuid", self.settings(cli()),
                              "9.0.0", "7.2.0")
        self.assertTrue(e.format_message().startswith("libvirt-nvlink transform: domain 'instance-00000002': assigns NVLink2 GPU 0004:04:00.0"),
                        e.format_message())

    def test_a_missing_binary_fails_the_operation_naming_the_path_and_the_fix(self) -> None:
        e = self.assertRaises(exception.LibvirtNvlinkFailed, transform.complete, PSERIES_WITH_V100, "uuid-1",
                              self.settings("/nonexistent/libvirt-nvlink"), "9.0.0", "7.2.0")
        self.assertIn("/nonexistent/libvirt-nvlink", e.format_message())
        self.assertIn("set [libvirt_nvlink] binary", e.format_message())
        self.assertIn("uuid-1", e.format_message())

    def test_a_crash_is_a_failure_not_a_refusal(self) -> None:
        binary = self.script("echo 'Unhandled exception' >&2; exit 134")
        e = self.assertRaises(exception.LibvirtNvlinkFailed, transform.complete, PSERIES_WITH_V100, "uuid",
                              self.settings(binary), "9.0.0", "7.2.0")
        self.assertIn("Unhandled exception", e.format_message())

    def test_a_hung_cli_is_killed_at_the_timeout(self) -> None:
        pid_file = os.path.join(self.work, "pid")
        binary = self.script("echo $$ > %s; exec sleep 60" % pid_file)
        started = time.monotonic()
        e = self.assertRaises(exception.LibvirtNvlinkFailed, transform.complete, PSERIES_WITH_V100, "uuid",
                              self.settings(binary, timeout=1), "9.0.0", "7.2.0")
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn("[libvirt_nvlink] timeout", e.format_message())
        with open(pid_file) as f:
            pid = int(f.read())
        # Killed and reaped: the process no longer exists.
        self.assertRaises(ProcessLookupError, os.kill, pid, 0)

    def test_the_binary_defaults_to_the_package_path_then_the_publish_path(self) -> None:
        first, second = os.path.join(self.work, "a"), os.path.join(self.work, "b")
        defaults: List[str] = [first, second]
        self.assertEqual(first, transform.resolve_binary(None, defaults), "neither exists: name the package path")
        open(second, "w").close()
        os.chmod(second, stat.S_IRWXU)
        self.assertEqual(second, transform.resolve_binary(None, defaults))
        self.assertEqual("/opt/x", transform.resolve_binary("/opt/x", defaults), "a configured path is used as is")
        self.assertEqual("/usr/bin/libvirt-nvlink", nvlink_conf.DEFAULT_BINARIES[0])

    def test_versions_are_passed_as_libvirt_and_qemu_number_them(self) -> None:
        self.assertEqual("11.8.0", transform.version_string(11008000))
        self.assertEqual("9.2.1", transform.version_string(9002001))
