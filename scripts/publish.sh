#!/usr/bin/env bash
# Publishes the NativeAOT binaries an installation needs into one directory (default artifacts/publish):
# libvirt-nvlink (the CLI) and libvirt-nvlink-hook. Then, as root:
#   artifacts/publish/libvirt-nvlink install-hook
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/publish}
aot=true
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  ppc64le)
    # NativeAOT has no POWER backend: on an AC922 the same programs run on the ppc64le .NET runtime
    # (distribution or community builds), self-contained, with the same behaviour and a slower start.
    rid=linux-ppc64le; aot=false
    echo "publish: NativeAOT is not available for ppc64le; publishing self-contained JIT binaries" >&2 ;;
  *) echo "publish: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
for project in src/LibvirtNvlink.Cli src/LibvirtNvlink.Hook; do
  if [ "$aot" = true ]; then
    dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true -o "$out" -nologo -v quiet
  else
    dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=false --self-contained -o "$out" -nologo -v quiet
  fi
done
rm -f "$out"/*.dbg "$out"/*.pdb
ls -la "$out"
