"""Nova's libvirt driver plus libvirt-nvlink.

nova.conf: ``[DEFAULT] compute_driver = libvirt_nvlink.LibvirtNvlinkDriver`` (Nova prefixes ``nova.virt.``).
The class is imported lazily so that ``nova.virt.libvirt_nvlink.conf`` (oslo-config-generator) does not pull in
the whole libvirt driver.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "LibvirtNvlinkDriver":
        from nova.virt.libvirt_nvlink.driver import LibvirtNvlinkDriver
        return LibvirtNvlinkDriver
    raise AttributeError(name)
