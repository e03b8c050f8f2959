"""Runs ``libvirt-nvlink transform -``: the one implementation of every NVLink2 and Grace rule lives in the C# CLI;
this module only decides whether to call it, calls it, and turns its outcome into Nova's terms."""

import os
import subprocess
from typing import List, NamedTuple, Optional, Sequence

import eventlet.patcher
from lxml import etree
from oslo_concurrency import processutils
from oslo_log import log as logging

from nova.virt.libvirt_nvlink import exception

LOG = logging.getLogger(__name__)

# src/LibvirtNvlink.Cli/ExitCodes.cs: Usage is transform's refusal (bad input or a domain it cannot complete,
# nothing written). Any other non-zero status is a failure of the tool, not a verdict on the domain.
EXIT_REFUSED = 2

# Under eventlet (nova-compute) a timeout in processutils is raised by eventlet's subprocess, whose Popen comes
# from a separately imported copy of the standard module (eventlet.patcher.original): its TimeoutExpired is another
# class than the one "import subprocess" gives. Every class it can be is caught, by type.
_TIMEOUTS = tuple({subprocess.TimeoutExpired, processutils.subprocess.TimeoutExpired,
                   eventlet.patcher.original("subprocess").TimeoutExpired})


class TransformSettings(NamedTuple):
    """The [libvirt_nvlink] options, resolved."""

    binary: str
    host_root: str
    memlock: str
    timeout: int
    grace_layout: str = "auto"


def resolve_binary(configured: Optional[str], defaults: Sequence[str]) -> str:
    """The configured path as is; otherwise the first default that exists, else the first (so the error names
    the path the package installs)."""
    if configured:
        return configured
    for candidate in defaults:
        if os.access(candidate, os.X_OK):
            return candidate
    return defaults[0]


def assigns_host_devices(xml: str) -> bool:
    """Whether the domain assigns any host device at all.

    Every device transform acts on (an NVLink2 V100, its NPU bridges, a Grace GPU) reaches a domain only as a
    <hostdev>; which hostdevs are ours is transform's decision, never made here. A domain with none cannot need
    it, so it is handed to libvirt exactly as Nova generated it, without starting a process.
    """
    return etree.fromstring(xml.encode("utf-8")).find("./devices/hostdev") is not None


def version_string(number: int) -> str:
    """libvirt's and QEMU's version numbers (major * 1,000,000 + minor * 1,000 + micro) as X.Y.Z."""
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def command(settings: TransformSettings, libvirt_version: str, qemu_version: str) -> List[str]:
    # The versions are those of the daemon Nova talks to: the libvirt and QEMU that will start this domain.
    return [settings.binary, "transform", "-",
            "--host-root", settings.host_root,
            "--memlock", settings.memlock,
            "--grace-layout", settings.grace_layout,
            "--libvirt-version", libvirt_version,
            "--qemu-version", qemu_version]


def complete(xml: str, instance_uuid: str, settings: TransformSettings, libvirt_version: str,
             qemu_version: str) -> str:
    """The domain XML completed for this host, or ``xml`` itself when it assigns no host device.

    :raises LibvirtNvlinkRefused: transform refused the domain; its message is the exception's.
    :raises LibvirtNvlinkFailed: transform is missing, failed, or ran past the timeout.
    """
    if not assigns_host_devices(xml):
        return xml
    argv = command(settings, libvirt_version, qemu_version)
    started: List["subprocess.Popen[bytes]"] = []
    try:
        out, err = processutils.execute(*argv, process_input=xml.encode("utf-8"), binary=True,
                                        timeout=settings.timeout, on_execute=started.append,
                                        loglevel=logging.DEBUG)
    except processutils.ProcessExecutionError as e:
        reason = (e.stderr or "").strip() or "exit status %s and no message" % e.exit_code
        if e.exit_code == EXIT_REFUSED:
            raise exception.LibvirtNvlinkRefused(reason=reason)
        raise exception.LibvirtNvlinkFailed(instance=instance_uuid, reason="%s: %s" % (settings.binary, reason))
    except _TIMEOUTS:
        # processutils leaves the child running on a timeout; nothing will read its output any more.
        for process in started:
            process.kill()
            process.wait()
        raise exception.LibvirtNvlinkFailed(
            instance=instance_uuid,
            reason="'%s' did not finish within %d s ([libvirt_nvlink] timeout)" % (" ".join(argv[:2]), settings.timeout))
    except OSError as e:
        raise exception.LibvirtNvlinkFailed(
            instance=instance_uuid,
            reason="cannot run %s (%s). Install the libvirt-nvlink package or set [libvirt_nvlink] binary."
            % (settings.binary, e.strerror or e))
    # What transform added and why (the memlock decision, warnings): the operator's record of this definition.
    for line in err.decode("utf-8", "replace").splitlines():
        LOG.info("libvirt-nvlink transform, instance %s: %s", instance_uuid, line)
    return out.decode("utf-8")
