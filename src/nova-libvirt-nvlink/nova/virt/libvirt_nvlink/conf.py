"""The ``[libvirt_nvlink]`` section of nova.conf."""

from typing import List, Tuple

from oslo_config import cfg

GROUP = cfg.OptGroup(
    "libvirt_nvlink",
    title="libvirt-nvlink",
    help="How LibvirtNvlinkDriver runs 'libvirt-nvlink transform' on every domain XML Nova generates.")

# Where the Debian package installs the CLI, then where scripts/publish.sh put it for the installs docs/nova.md
# described before the package existed, so such a host keeps working after switching compute_driver.
DEFAULT_BINARIES: Tuple[str, ...] = ("/usr/bin/libvirt-nvlink", "/usr/lib/libvirt-nvlink/libvirt-nvlink")

OPTS: List[cfg.Opt] = [
    cfg.StrOpt(
        "binary",
        help="Path of the libvirt-nvlink command. Unset: the first of " + ", ".join(DEFAULT_BINARIES)
        + " that exists. A path set here is used as is, never replaced by a default."),
    cfg.StrOpt(
        "host_root",
        default="/",
        help="The host root transform reads sysfs and the device tree from (--host-root). Only tests change it."),
    cfg.StrOpt(
        "memlock",
        default="auto",
        choices=[
            ("auto", "write <hard_limit> only when the target libvirt's own limit falls short of what the guest locks"),
            ("write", "always write <hard_limit> (it is also the guest's cgroup memory limit)"),
            ("never", "never write <hard_limit>"),
        ],
        help="transform --memlock."),
    cfg.StrOpt(
        "grace_layout",
        default="auto",
        choices=[
            ("auto", "the expander layout where the host's libvirt, QEMU and kernel support all of it, else flat"),
            ("flat", "Grace GPUs on the default pcie-root, legacy VFIO groups, no virtual IOMMU"),
            ("expander", "a pcie-expander-bus per host SMMU on the GPUs' NUMA cell, with iommufd and an accelerated "
                         "SMMUv3 where supported"),
        ],
        help="transform --grace-layout: where Grace GPUs sit on the guest's PCIe tree."),
    cfg.IntOpt(
        "timeout",
        default=60,
        min=1,
        help="Seconds a transform may take before the operation fails. The NativeAOT CLI takes tens of "
        "milliseconds; on POWER the JIT build starts in well under a second."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> List[Tuple[cfg.OptGroup, List[cfg.Opt]]]:
    """For oslo-config-generator (entry point in pyproject.toml)."""
    return [(GROUP, OPTS)]
