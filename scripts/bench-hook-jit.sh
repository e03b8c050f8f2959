#!/usr/bin/env bash
# What an unrelated domain pays for the hook on each kind of install, side by side in one run, against a one-line
# shell hook ('cat >/dev/null'):
#   - a JIT install (ppc64le; scripts/publish.sh --jit here): libvirt-nvlink-hook-front, which install-hook lays
#     down there, and for comparison the JIT .NET hook run directly (what JIT installs ran before the front);
#   - a NativeAOT install (scripts/publish.sh): libvirt-nvlink-hook.
# Every invocation is a fork+exec from this shell, as libvirtd's are. The programs take turns, round by round, so
# a change in the machine's load hits all of them alike. Usage: scripts/bench-hook-jit.sh [RUNS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
rounds=${2:-5}
aot=artifacts/hook-bench-aot
jit=artifacts/hook-bench-jit
scripts/publish.sh "$aot" >/dev/null
scripts/publish.sh --jit "$jit" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\ncat >/dev/null\n' > "$work/shell-hook"; chmod +x "$work/shell-hook"
cat > "$work/plain.xml" <<'XML'
<domain type='kvm'><name>plain</name><memory unit='GiB'>8</memory><os><type arch='ppc64le' machine='pseries'>hvm</type></os>
<devices><disk type='file' device='disk'><source file='/var/lib/libvirt/images/plain.qcow2'/><target dev='vda' bus='virtio'/>
<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
<interface type='network'><source network='default'/><model type='virtio'/><address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices></domain>
XML
# The unrelated domain has a hostdev of its own (a NIC), so the triage goes all the way: scan, sysfs read, done.
export LIBVIRT_NVLINK_HOST_ROOT=$PWD/examples/hosts/witherspoon-6gpu
export LIBVIRT_NVLINK_CONFIG=$work/config.xml LIBVIRT_NVLINK_STATE_DIR=$work/state LIBVIRT_NVLINK_LOCK_DIR=$work/locks
echo "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><log target='file' path='$work/hook.log'/></libvirt-nvlink>" > "$work/config.xml"

labels=("shell hook 'cat >/dev/null'" "JIT install: libvirt-nvlink-hook-front" "JIT install: .NET hook run directly" "NativeAOT install: libvirt-nvlink-hook")
programs=("$work/shell-hook" "$jit/libvirt-nvlink-hook-front" "$jit/libvirt-nvlink-hook" "$aot/libvirt-nvlink-hook")
declare -a total
for i in "${!programs[@]}"; do
  total[i]=0
  # Each must pass the plain domain silently; a warm-up run also fills the page cache.
  out=$("${programs[i]}" plain prepare begin - < "$work/plain.xml" 2>&1) || { echo "${labels[i]} failed: $out" >&2; exit 1; }
  [ -z "$out" ] || { echo "${labels[i]} printed: $out" >&2; exit 1; }
done
for _ in $(seq "$rounds"); do
  for i in "${!programs[@]}"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "${programs[i]}" plain prepare begin - < "$work/plain.xml" >/dev/null; done
    total[i]=$(( total[i] + $(date +%s%N) - start ))
  done
done
n=$(( runs * rounds ))
echo "non-GPU domain with a hostdev, prepare begin; $n invocations each, interleaved in $rounds rounds"
for i in "${!programs[@]}"; do
  awk -v l="${labels[i]}" -v t="${total[i]}" -v s="${total[0]}" -v n="$n" \
    'BEGIN { printf "%-42s %7.2f ms per invocation  %5.2fx the shell hook\n", l, t / n / 1000000, t / s }'
done
