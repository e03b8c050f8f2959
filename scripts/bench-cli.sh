#!/usr/bin/env bash
# Wall time of whole `libvirt-nvlink transform` processes on the 6-GPU domain and host, compared with the
# floor of starting a process (`true`) and of starting any .NET app, over N runs. Prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
dotnet build src/LibvirtNvlink.Cli -c Release -nologo -v quiet >/dev/null
dotnet publish src/LibvirtNvlink.Cli -c Release -r linux-x64 -p:PublishAot=true -o artifacts/cli-aot -nologo -v quiet >/dev/null
cli=src/LibvirtNvlink.Cli/bin/Release/net10.0/libvirt-nvlink
aot=artifacts/cli-aot/libvirt-nvlink
input=tests/LibvirtNvlink.Tests/Golden/six-gpus-in.xml
host=examples/hosts/witherspoon-6gpu
measure() { # label, command...
  local label=$1; shift
  "$@" >/dev/null 2>&1 || true
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  awk -v l="$label" -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%-48s %8.1f ms per run (%d runs)\n", l, (e - s) / n / 1000000, n }'
}
measure "/bin/true (process floor)" /bin/true
measure "libvirt-nvlink --version (.NET start floor)" "$cli" --version
measure "libvirt-nvlink transform, 6-GPU domain" "$cli" transform "$input" --host-root "$host" --memlock write --libvirt-version 9.0.0
measure "libvirt-nvlink explain, 6-GPU domain" "$cli" explain "$input" --host-root "$host" --libvirt-version 9.0.0
measure "NativeAOT: libvirt-nvlink --version" "$aot" --version
measure "NativeAOT: libvirt-nvlink transform, 6-GPU domain" "$aot" transform "$input" --host-root "$host" --memlock write --libvirt-version 9.0.0
