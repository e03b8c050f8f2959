#!/usr/bin/env bash
# Regenerates the client-written golden inputs under tests/LibvirtNvlink.Tests/Golden (the *-virt-install-*, *-nova-*
# and *-dumpxml-* cases) with the real tools: virt-install --print-xml (Debian 12 virtinst 4.1), Nova's own
# nova.virt.libvirt.config classes (Debian 12 python3-nova 26.2.2), and virsh dumpxml after virsh define on a private
# libvirtd 9.0 in its own mount namespace (nothing of the machine's libvirt is touched). Needs root.
# The -out files are then rewritten by the golden tests: LIBVIRT_NVLINK_UPDATE_GOLDEN=1, and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
golden=tests/LibvirtNvlink.Tests/Golden
work=$(mktemp -d /tmp/lvn-client-goldens.XXXXXX)
pidfile=$work/libvirtd.pid
cleanup() {
    if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A private libvirtd, set up like the integration tests' PrivateLibvirtd: its own /etc, /run, /var/lib, /var/log.
mkdir -p "$work"/{etc,run,lib/qemu,log/qemu,cache/qemu} /var/run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt
cat >"$work/etc/qemu.conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = []
cgroup_controllers = []
CONF
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
# Everything that needs the daemon runs inside its namespace, so the tools see its socket at the usual path.
unshare -m --propagation private /bin/bash -s "$work" "$golden" <<'INNER'
set -euo pipefail
work=$1 golden=$2
for d in etc:/etc/libvirt run:/var/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt cache:/var/cache/libvirt; do
    mount --bind "$work/${d%%:*}" "${d#*:}"
done
/usr/sbin/libvirtd -d -p "$work/libvirtd.pid"
for _ in $(seq 1 600); do [ -S /var/run/libvirt/libvirt-sock ] && virsh -c qemu:///system list --all >/dev/null 2>&1 && break; sleep 0.1; done
uri=qemu:///system
common=(--connect "$uri" --print-xml --import --disk none --network none --graphics none --osinfo detect=off,require=off --virt-type qemu)

# virt-install: (it looks --hostdev up among the host's node devices, which these GPUs are not, so the source
# address goes in through its xpath option) a pseries guest with one V100 of the witherspoon-6gpu host, and a user description full of
# characters that need escaping; an aarch64 virt guest with the GH200 of grace-hopper-1gpu.
virt-install "${common[@]}" --name vi-nv2 --memory 65536 --vcpus 8 --arch ppc64le --machine pseries \
    --description "it's \"tuned\" & <ready>" --hostdev "type=pci,xpath0.set=./@managed=yes,xpath1.set=./source/address/@domain=0x0004,xpath2.set=./source/address/@bus=0x04,xpath3.set=./source/address/@slot=0x00,xpath4.set=./source/address/@function=0x0" >"$golden/virt-install-nv2-in.xml"
virt-install "${common[@]}" --name vi-grace --memory 65536 --vcpus 16 --arch aarch64 --machine virt \
    --boot loader=/usr/share/AAVMF/AAVMF_CODE.fd,loader.readonly=yes,loader.type=pflash --hostdev "type=pci,xpath0.set=./@managed=yes,xpath1.set=./source/address/@domain=0x0009,xpath2.set=./source/address/@bus=0x01,xpath3.set=./source/address/@slot=0x00,xpath4.set=./source/address/@function=0x0" >"$golden/virt-install-grace-in.xml"

# Nova: the guest config classes the libvirt driver uses, with a hostdev from its PCI passthrough builder.
/usr/bin/python3 - "$golden" <<'PY'
import sys
from nova.virt.libvirt import config as c
golden = sys.argv[1]

def guest(name, arch, machine, address):
    g = c.LibvirtConfigGuest()
    g.virt_type = "kvm"
    g.name = name
    g.uuid = "8d2a5c1e-0f44-4c8e-9a1b-2b3c4d5e6f70"
    g.memory = 64 * 1024 * 1024
    g.vcpus = 8
    g.os_type = "hvm"
    g.os_mach_type = machine
    m = c.LibvirtConfigGuestMetaNovaInstance()
    m.package = "26.2.2"
    m.name = name
    m.creationTime = 1764547200.0
    m.flavor = c.LibvirtConfigGuestMetaNovaFlavor()
    m.flavor.name = "gpu.v100 \"tuned\" & more"
    m.flavor.memory = 65536
    m.flavor.vcpus = 8
    m.owner = c.LibvirtConfigGuestMetaNovaOwner()
    m.owner.userid = "u1"
    m.owner.username = "o'brien"
    m.owner.projectid = "p1"
    m.owner.projectname = "gpu"
    g.metadata.append(m)
    g.os_arch = arch
    cpu = c.LibvirtConfigGuestCPU()
    cpu.mode = "host-passthrough"
    g.cpu = cpu
    hd = c.LibvirtConfigGuestHostdevPCI()
    dom, bus, rest = address.split(":")
    slot, func = rest.split(".")
    hd.domain, hd.bus, hd.slot, hd.function = dom, bus, slot, func
    g.add_device(hd)
    return g.to_xml()

open(f"{golden}/nova-nv2-in.xml", "w").write(guest("nova-nv2", "ppc64le", "pseries", "0004:04:00.0"))
open(f"{golden}/nova-grace-in.xml", "w").write(guest("nova-grace", "aarch64", "virt", "0009:01:00.0"))
PY

# virsh dumpxml of each after define: libvirt's own formatting of the same documents (single quotes, its order).
for name in virt-install-nv2 nova-nv2 virt-install-grace nova-grace; do
    src=$golden/$name-in.xml
    tmp=$work/$name.xml
    # The test libvirt is x86 with TCG: define it as type qemu, the emulator libvirt finds here.
    sed -e 's/type="kvm"/type="qemu"/' "$src" >"$tmp"
    dom=$(virsh -c "$uri" define "$tmp" | sed -n "s/^Domain '\(.*\)' defined.*/\1/p")
    virsh -c "$uri" dumpxml --inactive "$dom" >"$golden/dumpxml-$name-in.xml"
    virsh -c "$uri" undefine --nvram "$dom" >/dev/null 2>&1 || virsh -c "$uri" undefine "$dom" >/dev/null
done
kill "$(cat "$work/libvirtd.pid")"
INNER
echo "regenerated the client goldens in $golden; now run the golden tests with LIBVIRT_NVLINK_UPDATE_GOLDEN=1 and review the diff"
