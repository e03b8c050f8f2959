#!/usr/bin/env bash
# The full test suite, from a fresh Debian 12 machine with the .NET SDK: installs the system packages the
# integration tests use, builds the solution, runs every test project, and ends with 'N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
# The packages are installed now: an integration test that finds them missing must fail, not skip.
[ "$(id -u)" -eq 0 ] && export LIBVIRT_NVLINK_REQUIRE_LIBVIRT=1
if ! dotnet build LibvirtNvlink.sln -c Release -nologo -v quiet; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
log=$(mktemp)
export LIBVIRT_NVLINK_FUZZ_REPORT; LIBVIRT_NVLINK_FUZZ_REPORT=$(mktemp)
dotnet test --solution LibvirtNvlink.sln -c Release --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
cat "$LIBVIRT_NVLINK_FUZZ_REPORT"; rm -f "$LIBVIRT_NVLINK_FUZZ_REPORT"
sum() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
passed=$(sum succeeded); failed=$(sum failed); skipped=$(sum skipped)
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
