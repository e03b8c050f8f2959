#!/usr/bin/env bash
# Publishes what an installation needs into one directory (default artifacts/publish): libvirt-nvlink (the CLI) and
# libvirt-nvlink-hook, NativeAOT where .NET has it. Then, as root:
#   artifacts/publish/libvirt-nvlink install-hook
#
#   scripts/publish.sh [DIR]         NativeAOT on x86-64 and arm64; self-contained JIT on ppc64le
#   scripts/publish.sh --jit [DIR]   self-contained JIT on any architecture, exactly as on ppc64le, so that path is
#                                    built and tested everywhere
# A JIT publish also builds libvirt-nvlink-hook-front with the system's C compiler (cc or $CC): the hook
# install-hook lays down on JIT installs, which answers libvirtd without starting a managed runtime for the
# events and domains that are none of ours (src/LibvirtNvlink.HookFront).
set -euo pipefail
cd "$(dirname "$0")/.."
aot=true
if [ "${1:-}" = --jit ]; then aot=false; shift; fi
out=${1:-artifacts/publish}
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  ppc64le)
    # NativeAOT has no POWER backend: on an AC922 the same programs run on the ppc64le .NET runtime
    # (distribution or community builds), self-contained, with the same behaviour and a slower start.
    rid=linux-ppc64le
    [ "$aot" = false ] || echo "publish: NativeAOT is not available for ppc64le; publishing self-contained JIT binaries" >&2
    aot=false ;;
  *) echo "publish: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
for project in src/LibvirtNvlink.Cli src/LibvirtNvlink.Hook; do
  if [ "$aot" = true ]; then
    dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true -o "$out" -nologo -v quiet
  else
    dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=false --self-contained -o "$out" -nologo -v quiet
  fi
done
if [ "$aot" = false ]; then
  make -s -C src/LibvirtNvlink.HookFront OUT="$(realpath "$out")"
fi
rm -f "$out"/*.dbg "$out"/*.pdb
ls -la "$out"
