#!/usr/bin/env bash
# Usage: scripts/debian-root.sh [--arch ARCH --extract] SUITE PACKAGE[,PACKAGE...]
#
# --arch ARCH --extract: the packages of a foreign architecture (e.g. arm64 kernels for a TCG guest) and their
# dependencies, only unpacked (mmdebstrap's extract variant: no maintainer scripts, so no emulation needed).
#
# Prints the path of a Debian root of SUITE (e.g. sid, bookworm) that holds PACKAGES, built once with mmdebstrap
# from this machine's Debian package source and then cached on the machine under
# ${LIBVIRT_NVLINK_ROOT_CACHE:-/var/cache/libvirt-nvlink/roots}/SUITE-KEY/root, KEY being a hash of what the root
# contains by construction (suite, sorted package list, package source, this recipe's version). Next to the root:
# `recipe` (the hashed text) and `packages` (dpkg-query of what was installed), so a cached root can be inspected.
#
# Concurrent callers for the same root wait for one build (flock). On failure: exit 1, the reason on stderr, and no
# cache entry is left behind. Needs root. Every test that needs such a root must fail with that reason, never skip.
set -euo pipefail
arch=""
variant=apt
while [ $# -gt 2 ]; do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --extract) variant=extract; shift ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { echo "usage: $0 [--arch ARCH --extract] SUITE PACKAGE[,PACKAGE...]" >&2; exit 2; }
suite=$1
packages=$(printf '%s' "$2" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
cache=${LIBVIRT_NVLINK_ROOT_CACHE:-/var/cache/libvirt-nvlink/roots}

[ "$(id -u)" -eq 0 ] || { echo "debian-root: building a $suite root needs root" >&2; exit 1; }

# The package source this machine already uses (deb822 first, then the one-line format).
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "debian-root: no Debian package source found in /etc/apt" >&2; exit 1; }

recipe="recipe=1 variant=$variant suite=$suite packages=$packages mirror=$mirror"
# A native root keeps the key it always had; a foreign one says which architecture.
[ -z "$arch" ] || recipe="$recipe arch=$arch"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
dir=$cache/$suite-$key
if [ -f "$dir/complete" ]; then echo "$dir/root"; exit 0; fi

if ! command -v mmdebstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends mmdebstrap >&2 \
    || { echo "debian-root: cannot install mmdebstrap" >&2; exit 1; }
fi

mkdir -p "$cache"
exec 9>"$cache/.lock-$suite-$key"
flock 9
if [ -f "$dir/complete" ]; then echo "$dir/root"; exit 0; fi

rm -rf "$dir"
mkdir -p "$dir"
log=$dir/mmdebstrap.log
# Check-Valid-Until: the release file the package source serves may be past its validity date.
if ! mmdebstrap --variant="$variant" ${arch:+--arch="$arch"} --aptopt='Acquire::Check-Valid-Until "false"' --include="$packages" \
    "$suite" "$dir/root" "$mirror" >"$log" 2>&1; then
  echo "debian-root: mmdebstrap of $suite with $packages from $mirror failed; last lines:" >&2
  tail -n 15 "$log" >&2
  rm -rf "$dir"
  exit 1
fi
printf '%s\n' "$recipe" >"$dir/recipe"
if [ "$variant" = extract ]; then
  # Nothing is installed in an extracted root (no dpkg database): list the packages by their doc directories.
  find "$dir/root/usr/share/doc" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort >"$dir/packages" || true
else
  chroot "$dir/root" dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' >"$dir/packages"
fi
touch "$dir/complete"
echo "$dir/root"
