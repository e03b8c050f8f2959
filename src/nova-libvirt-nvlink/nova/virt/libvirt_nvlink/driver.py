"""LibvirtNvlinkDriver: Nova's libvirt driver, with every domain XML completed before Nova defines it."""

from typing import Any, Tuple

import nova.conf
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt_nvlink import conf as nvlink_conf
from nova.virt.libvirt_nvlink import transform

CONF = nova.conf.CONF
nvlink_conf.register(CONF)


class LibvirtNvlinkDriver(libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver plus ``libvirt-nvlink transform``.

    ``_get_guest_xml`` is where spawn, hard reboot, rescue, resize and cold migration (finish_migration),
    revert and evacuation (spawn on the new host) all get the XML that ``Guest.create`` defines right before
    the start. Completing it there leaves libvirt nothing incomplete to start, so the qemu hook has nothing to
    refuse and no race with ``watch`` exists. Everything else is Nova's own behaviour.
    """

    def _get_guest_xml(self, context: Any, instance: Any, *args: Any, **kwargs: Any) -> str:
        # *args/**kwargs: the arguments after instance differ between Nova releases; we pass them through.
        xml = super()._get_guest_xml(context, instance, *args, **kwargs)
        return transform.complete(xml, instance.uuid, self._transform_settings(), *self._target_versions())

    @staticmethod
    def _transform_settings() -> transform.TransformSettings:
        # Read on every call, like Nova's own options, so a SIGHUP-reloaded nova.conf applies.
        group = CONF.libvirt_nvlink
        return transform.TransformSettings(
            binary=transform.resolve_binary(group.binary, nvlink_conf.DEFAULT_BINARIES),
            host_root=group.host_root, memlock=group.memlock, timeout=group.timeout, grace_layout=group.grace_layout)

    def _target_versions(self) -> Tuple[str, str]:
        conn = self._host.get_connection()
        return transform.version_string(conn.getLibVersion()), transform.version_string(conn.getVersion())
