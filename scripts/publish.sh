#!/usr/bin/env bash
# Publishes what an installation needs into one directory (default artifacts/publish): libvirt-nvlink (the CLI) and
# libvirt-nvlink-hook, NativeAOT where .NET has it. Then, as root:
#   artifacts/publish/libvirt-nvlink install-hook
#
#   scripts/publish.sh [DIR]         NativeAOT on x86-64 and arm64; self-contained JIT on ppc64le
#   scripts/publish.sh --jit [DIR]   self-contained JIT on any architecture, exactly as on ppc64le, so that path is
#                                    built and tested everywhere
#   scripts/publish.sh --arm64 [DIR] NativeAOT for arm64 (Grace) from an x86-64 machine: clang links against the
#                                    Debian cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)
# A JIT publish also builds libvirt-nvlink-hook-front with the system's C compiler (cc or $CC): the hook
# install-hook lays down on JIT installs, which answers libvirtd without starting a managed runtime for the
# events and domains that are none of ours (src/LibvirtNvlink.HookFront).
set -euo pipefail
cd "$(dirname "$0")/.."
aot=true
cross=()
arch=$(uname -m)
if [ "${1:-}" = --jit ]; then aot=false; shift; fi
if [ "${1:-}" = --arm64 ]; then
  shift
  [ "$aot" = true ] || { echo "publish: --jit and --arm64 do not go together (arm64 has NativeAOT)" >&2; exit 2; }
  if [ "$arch" != aarch64 ]; then
    clang=$(command -v clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14 | head -n 1)
    [ -n "$clang" ] && command -v aarch64-linux-gnu-objcopy >/dev/null || {
      echo "publish: --arm64 needs clang and the arm64 cross toolchain (gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2; exit 2; }
    # NativeAOT passes --target=aarch64-linux-gnu to its compiler-linker: clang then finds Debian's cross gcc
    # installation (crt files, libgcc) and links with aarch64-linux-gnu-ld.
    cross=(-p:CppCompilerAndLinker="$clang" -p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  arch=aarch64
fi
out=${1:-artifacts/publish}
case "$arch" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  ppc64le)
    # NativeAOT has no POWER backend: on an AC922 the same programs run on the ppc64le .NET runtime
    # (distribution or community builds), self-contained, with the same behaviour and a slower start.
    rid=linux-ppc64le
    [ "$aot" = false ] || echo "publish: NativeAOT is not available for ppc64le; publishing self-contained JIT binaries" >&2
    aot=false ;;
  *) echo "publish: unsupported architecture $arch" >&2; exit 2 ;;
esac
# One publish at a time in this checkout: publishes for different RIDs share each project's obj/ (restore writes
# obj/project.assets.json), and the test suite runs its publishing tests in parallel. -o: the build servers dotnet
# leaves running must not inherit the lock.
mkdir -p artifacts
locked() { flock -o artifacts/.publish.lock "$@"; }
for project in src/LibvirtNvlink.Cli src/LibvirtNvlink.Hook; do
  if [ "$aot" = true ]; then
    locked dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true "${cross[@]}" -o "$out" -nologo -v quiet
  else
    locked dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=false --self-contained -o "$out" -nologo -v quiet
  fi
done
if [ "$aot" = false ]; then
  make -s -C src/LibvirtNvlink.HookFront OUT="$(realpath "$out")"
fi
rm -f "$out"/*.dbg "$out"/*.pdb
ls -la "$out"
