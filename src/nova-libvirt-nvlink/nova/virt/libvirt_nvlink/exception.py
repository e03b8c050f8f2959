"""Failures of the transform, as Nova exceptions: Nova records their message as the instance fault."""

from nova import exception


class LibvirtNvlinkRefused(exception.NovaException):
    """transform refused the domain (exit 2). The message is transform's own: it names the device and the fix."""

    msg_fmt = "%(reason)s"


class LibvirtNvlinkFailed(exception.NovaException):
    """transform could not run or did not finish: the domain is not defined incomplete, the operation fails."""

    msg_fmt = "libvirt-nvlink could not complete the domain of instance %(instance)s: %(reason)s"
