#!/usr/bin/env bash
# Publishes the NativeAOT binaries an installation needs into one directory (default artifacts/publish):
# libvirt-nvlink (the CLI), libvirt-nvlink-hook and libvirt-nvlink-hook-worker. Then, as root:
#   artifacts/publish/libvirt-nvlink install-hook
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/publish}
rid=linux-$(case "$(uname -m)" in x86_64) echo x64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac)
for project in src/LibvirtNvlink.Cli src/LibvirtNvlink.Hook src/LibvirtNvlink.HookWorker; do
  dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true -o "$out" -nologo -v quiet
done
rm -f "$out"/*.dbg "$out"/*.pdb
ls -la "$out"
