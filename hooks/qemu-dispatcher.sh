#!/bin/sh
# libvirt-nvlink qemu dispatcher
#
# Installed as /etc/libvirt/hooks/qemu by 'libvirt-nvlink install-hook' on libvirt older than 6.5, which runs only
# that one script. It does what libvirt >= 6.5 does itself (src/util/virhook.c): run the previous 'qemu' script, if
# one was there before us (kept as qemu.libvirt-nvlink-chained), then every executable in qemu.d/ in name order,
# each with the same arguments and the domain XML on stdin; for migrate and restore, a script's non-empty output
# becomes the next one's input and the final answer. Any failure fails the hook, and its stderr reaches libvirt.
set -u
dir=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-nvlink-dispatch.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/input"
answer_wanted=no
case "$2" in migrate|restore) answer_wanted=yes ;; esac
status=0
for script in "$dir/qemu.libvirt-nvlink-chained" "$dir"/qemu.d/*; do
  [ -f "$script" ] && [ -x "$script" ] || continue
  if "$script" "$@" < "$tmp/input" > "$tmp/output"; then
    if [ "$answer_wanted" = yes ] && [ -s "$tmp/output" ]; then
      cp "$tmp/output" "$tmp/input"
      cp "$tmp/output" "$tmp/answer"
    fi
  else
    status=1
  fi
done
[ -f "$tmp/answer" ] && cat "$tmp/answer"
exit $status
