#!/usr/bin/env bash
# Regenerates the bundled example hosts under examples/hosts from the built-in layouts.
# A test compares the committed trees with what the builder writes, so run this after changing a layout.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/LibvirtNvlink.Cli -c Release -v quiet -nologo >/dev/null
for layout in witherspoon-6gpu witherspoon-4gpu-compound x86-pcie-v100 witherspoon-broken grace-hopper-1gpu grace-blackwell-4gpu grace-blackwell-4gpu-mixed; do
  rm -rf "examples/hosts/$layout"
  dotnet src/LibvirtNvlink.Cli/bin/Release/net10.0/libvirt-nvlink.dll simulate-host --layout "$layout" -o "examples/hosts/$layout"
done
