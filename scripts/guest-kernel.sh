#!/usr/bin/env bash
# Usage: scripts/guest-kernel.sh
#
# Prints the path of a small arm64 guest kernel (an EFI-bootable Image) for the Grace guest-boot tests, built from
# Debian's linux-source-6.1 with Debian's aarch64 cross compiler: `make tinyconfig` plus scripts/guest-kernel.config
# (ACPI, NUMA with CONFIG_NODES_SHIFT=6, PCI, EFI stub, PL011 console, initramfs). Debian's own arm64 kernels allow 16
# NUMA nodes, fewer than the 34 of the 4-GPU GB200 tray's layout.
#
# Built once and cached on the machine under ${LIBVIRT_NVLINK_GUEST_CACHE:-/var/cache/libvirt-nvlink/guest}/kernel-KEY,
# KEY being the sha256 of what determines the kernel (the source and toolchain package versions, the config fragment,
# this recipe's version); next to the Image: `recipe`, the `config` it was built with, and `build.log`. Packages are
# installed on demand. Concurrent callers wait for one build (flock). On failure: exit 1, the reason on stderr, and no
# cache entry. Needs root. Every test that needs this kernel must fail with that reason, never skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/guest-kernel.config
cache=${LIBVIRT_NVLINK_GUEST_CACHE:-/var/cache/libvirt-nvlink/guest}
source_package=linux-source-6.1
tools=(gcc-aarch64-linux-gnu gcc make flex bison bc "$source_package")

[ "$(id -u)" -eq 0 ] || { echo "guest-kernel: building the guest kernel needs root" >&2; exit 1; }

missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >&2 \
    || { echo "guest-kernel: cannot install ${missing[*]}" >&2; exit 1; }
fi

version() { dpkg-query -W -f='${Version}' "$1"; }
# gcc-aarch64-linux-gnu only points at the versioned compiler, whose own version is what builds the kernel.
compiler=$(dpkg-query -W -f='${Depends}' gcc-aarch64-linux-gnu | grep -o 'gcc-[0-9]*-aarch64-linux-gnu' | head -n1)
recipe="recipe=1 source=$source_package=$(version "$source_package") toolchain=gcc-aarch64-linux-gnu=$(version gcc-aarch64-linux-gnu),$compiler=$(version "$compiler")
$(cat "$fragment")"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
dir=$cache/kernel-$key
if [ -f "$dir/Image" ]; then echo "$dir/Image"; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.lock-kernel-$key"
flock 9
if [ -f "$dir/Image" ]; then echo "$dir/Image"; exit 0; fi

work=$cache/.build-kernel-$key
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
log=$work/build.log
fail() {
  echo "guest-kernel: $1; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
}
started=$(date +%s)
# All of it: Kconfig reads files of other architectures and of Documentation/.
tar -xJf "/usr/src/$source_package.tar.xz" -C "$work" >"$log" 2>&1 || fail "cannot unpack /usr/src/$source_package.tar.xz"
src=$work/$source_package
# Fixed build stamps: the same inputs give the same Image.
make_args=(-C "$src" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- KBUILD_BUILD_USER=libvirt-nvlink KBUILD_BUILD_HOST=guest
  KBUILD_BUILD_TIMESTAMP="$(version "$source_package")" -j"$(nproc)")
make "${make_args[@]}" tinyconfig >>"$log" 2>&1 || fail "make tinyconfig failed"
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$fragment" >>"$log" 2>&1 || fail "merging $fragment failed"
make "${make_args[@]}" olddefconfig >>"$log" 2>&1 || fail "make olddefconfig failed"
unmet=$(grep '^CONFIG_' "$fragment" | while read -r line; do grep -qxF "$line" "$src/.config" || echo "$line"; done)
[ -z "$unmet" ] || fail "the configuration lacks $(echo $unmet) (a dependency is missing from $fragment)"
make "${make_args[@]}" Image >>"$log" 2>&1 || fail "make Image failed"
seconds=$(( $(date +%s) - started ))
echo "guest-kernel: built $source_package $(version "$source_package") in $seconds s" >>"$log"

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
cp "$src/arch/arm64/boot/Image" "$dir.tmp/Image"
cp "$src/.config" "$dir.tmp/config"
cp "$log" "$dir.tmp/build.log"
printf '%s\n' "$recipe" >"$dir.tmp/recipe"
mv "$dir.tmp" "$dir"
echo "guest-kernel: built $source_package $(version "$source_package") in $seconds s" >&2
echo "$dir/Image"
