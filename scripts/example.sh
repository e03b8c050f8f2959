#!/usr/bin/env bash
# The main job on the bundled example host: build the CLI, show the 6-GPU AC922's NVLink2 topology,
# complete an example domain for it (the diff), explain its locked-memory limit, then the broken host's findings. Works on a fresh Debian 12 machine with the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/LibvirtNvlink.Cli -c Release -nologo -v quiet >/dev/null
cli() { dotnet src/LibvirtNvlink.Cli/bin/Release/net10.0/libvirt-nvlink.dll "$@"; }
host=examples/hosts/witherspoon-6gpu

echo "== libvirt-nvlink topology --host-root $host"
cli topology --host-root "$host"
echo
echo "== libvirt-nvlink transform examples/domains/gpu1.xml --host-root $host --diff"
cli transform examples/domains/gpu1.xml --host-root "$host" --diff
echo
echo "== libvirt-nvlink explain (the transformed domain)"
cli transform examples/domains/gpu1.xml --host-root "$host" 2>/dev/null | cli explain - --host-root "$host"
echo
echo "== libvirt-nvlink topology --host-root examples/hosts/witherspoon-broken (exit 1: findings of severity error)"
cli topology --host-root examples/hosts/witherspoon-broken || true
