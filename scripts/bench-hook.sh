#!/usr/bin/env bash
# The hook's figures: wall time per invocation for a domain that is none of its business, side by side with a
# one-line shell hook in the same run; prepare of a 6-GPU domain on the 6-GPU example host; peak RSS.
# Every invocation is a fork+exec from this shell, as libvirtd's are; the 'true' line is that floor.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
out=artifacts/hook-bench
dotnet publish src/LibvirtNvlink.Hook -c Release -r linux-x64 -o "$out" -nologo -v quiet >/dev/null
# The same hook linked position-independent (the .NET default), for the comparison the project file's comment cites.
dotnet publish src/LibvirtNvlink.Hook -c Release -r linux-x64 -o "$out-pie" -p:HookPositionIndependent=true \
  -p:IntermediateOutputPath="$PWD/artifacts/obj-hook-pie/" -nologo -v quiet >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\ncat >/dev/null\n' > "$work/shell-hook"; chmod +x "$work/shell-hook"
cat > "$work/plain.xml" <<'XML'
<domain type='kvm'><name>plain</name><memory unit='GiB'>8</memory><os><type arch='ppc64le' machine='pseries'>hvm</type></os>
<devices><disk type='file' device='disk'><source file='/var/lib/libvirt/images/plain.qcow2'/><target dev='vda' bus='virtio'/></disk>
<interface type='network'><source network='default'/><model type='virtio'/></interface></devices></domain>
XML
export LIBVIRT_NVLINK_HOST_ROOT=$PWD/examples/hosts/witherspoon-6gpu
export LIBVIRT_NVLINK_CONFIG=$work/config.xml LIBVIRT_NVLINK_STATE_DIR=$work/state LIBVIRT_NVLINK_LOCK_DIR=$work/locks
echo "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><log target='file' path='$work/hook.log'/></libvirt-nvlink>" > "$work/config.xml"
six=tests/LibvirtNvlink.Tests/Golden/six-gpus-out.xml
measure() { # label, input, runs, command...
  local label=$1 input=$2 n=$3; shift 3
  "$@" < "$input" >/dev/null 2>&1 || true
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" < "$input" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  awk -v l="$label" -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "%-58s %7.2f ms per invocation (%d runs)\n", l, (e - s) / n / 1000000, n }'
}
measure "/bin/true (fork+exec floor)" "$work/plain.xml" "$runs" /bin/true
measure "shell hook 'cat >/dev/null', non-GPU domain" "$work/plain.xml" "$runs" "$work/shell-hook" plain prepare begin -
measure "libvirt-nvlink-hook, non-GPU domain, prepare begin" "$work/plain.xml" "$runs" "$out/libvirt-nvlink-hook" plain prepare begin -
measure "shell hook 'cat >/dev/null', non-GPU domain (again)" "$work/plain.xml" "$runs" "$work/shell-hook" plain prepare begin -
measure "libvirt-nvlink-hook, non-GPU domain (again)" "$work/plain.xml" "$runs" "$out/libvirt-nvlink-hook" plain prepare begin -
measure "libvirt-nvlink-hook, 6-GPU domain, start begin (triage only)" "$six" 50 "$out/libvirt-nvlink-hook" six start begin -
measure "libvirt-nvlink-hook, 6-GPU domain, prepare begin" "$six" 50 "$out/libvirt-nvlink-hook" six prepare begin -
measure "  the same, hook built position-independent" "$six" 50 "$out-pie/libvirt-nvlink-hook" six prepare begin -
measure "libvirt-nvlink-hook, 6-GPU domain, prepare begin (again)" "$six" 50 "$out/libvirt-nvlink-hook" six prepare begin -
# LIBVIRT_NVLINK_BENCH_BASELINE=/path/to/an/older/libvirt-nvlink-hook: the same two figures for it, in this run.
if [ -n "${LIBVIRT_NVLINK_BENCH_BASELINE:-}" ]; then
  base=$LIBVIRT_NVLINK_BENCH_BASELINE
  for _ in 1 2; do
    measure "baseline hook, non-GPU domain" "$work/plain.xml" "$runs" "$base" plain prepare begin -
    measure "libvirt-nvlink-hook, non-GPU domain" "$work/plain.xml" "$runs" "$out/libvirt-nvlink-hook" plain prepare begin -
    measure "baseline hook, 6-GPU domain, prepare begin" "$six" 50 "$base" six prepare begin -
    measure "libvirt-nvlink-hook, 6-GPU domain, prepare begin" "$six" 50 "$out/libvirt-nvlink-hook" six prepare begin -
  done
fi
if command -v /usr/bin/time >/dev/null; then
  /usr/bin/time -f "peak RSS, non-GPU domain: %M KB" "$out/libvirt-nvlink-hook" plain prepare begin - < "$work/plain.xml"
  /usr/bin/time -f "peak RSS, 6-GPU prepare: %M KB" "$out/libvirt-nvlink-hook" six prepare begin - < "$six"
else
  echo "(install the 'time' package for peak RSS figures)"
fi
