#!/usr/bin/env bash
# Installs the Debian packages the tests use for real (no mocks): Graphviz to check --dot output, libvirt's
# clients (virt-xml-validate, virsh) and daemon with the ppc64, x86 and aarch64 (Grace domains) QEMUs for the integration tests.
# gcc with the x86 and ppc64el kernel headers checks our VFIO constants and struct layouts against linux/vfio.h;
# libvirt-dev's virterror.h checks our virError struct. libvirt-l10n and a de_DE.UTF-8 locale let a test see
# libvirt's translated messages (errors must be classified by code, never by text).
# gcc and make build the JIT installs' hook front; dpkg-dev, rpm, lintian and mmdebstrap build and check the packages;
# clang and the arm64 cross toolchain cross-compile the arm64 package (NativeAOT), qemu-user runs its programs.
# Nova's own code for the Nova driver's tests (scripts/test-nova.sh): python3-nova with the three test libraries its
# functional libvirt harness imports beyond Nova's own dependencies (found in a bare bookworm root: placement,
# oslotest, wsgi-intercept), and pip/setuptools/wheel to build and install the driver's wheel.
# Idempotent; does nothing for packages already present. Needs root (CI and these machines run as root).
set -euo pipefail
packages=(graphviz libxml2-utils libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-ppc qemu-system-x86 qemu-system-arm
  gcc make linux-libc-dev linux-libc-dev-ppc64el-cross libvirt-dev libvirt-l10n locales
  dpkg-dev lintian rpm mmdebstrap clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file
  python3-nova python3-placement python3-oslotest python3-wsgi-intercept python3-pip python3-setuptools python3-wheel)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Not a package: the locale is generated on the machine (localedef, from the locales package).
locale_missing() { ! locale -a 2>/dev/null | grep -qix 'de_DE.utf8'; }
[ ${#missing[@]} -eq 0 ] && ! locale_missing && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; missing packages: ${missing[*]:-none}, de_DE.UTF-8 locale: $(locale_missing && echo missing || echo present) (tests that need them will be skipped)" >&2
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi
if locale_missing; then localedef -i de_DE -f UTF-8 de_DE.UTF-8; fi
