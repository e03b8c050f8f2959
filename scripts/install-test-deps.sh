#!/usr/bin/env bash
# Installs the Debian packages the tests use for real (no mocks): Graphviz to check --dot output, libvirt's
# clients (virt-xml-validate, virsh) and daemon with the ppc64, x86 and aarch64 (Grace domains) QEMUs for the integration tests.
# gcc with the x86 and ppc64el kernel headers checks our VFIO constants and struct layouts against linux/vfio.h.
# gcc and make build the JIT installs' hook front; dpkg-dev, rpm, lintian and mmdebstrap build and check the packages;
# clang and the arm64 cross toolchain cross-compile the arm64 package (NativeAOT), qemu-user runs its programs.
# Idempotent; does nothing for packages already present. Needs root (CI and these machines run as root).
set -euo pipefail
packages=(graphviz libxml2-utils libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-ppc qemu-system-x86 qemu-system-arm gcc make linux-libc-dev linux-libc-dev-ppc64el-cross dpkg-dev lintian rpm mmdebstrap clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; missing packages: ${missing[*]} (tests that need them will be skipped)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
