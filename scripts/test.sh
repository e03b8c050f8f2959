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
dotnet test --solution LibvirtNvlink.sln -c Release --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
sum() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
passed=$(sum succeeded); failed=$(sum failed); skipped=$(sum skipped)
rm -f "$log"
# The Nova driver's Python tests (scripts/test-nova.sh): their counts join the .NET ones, a failure fails the run.
nova_log=$(mktemp)
scripts/test-nova.sh 2>&1 | tee "$nova_log"; nova_rc=${PIPESTATUS[0]}
read -r np nf ns < <(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$nova_log" | tail -n 1 | grep -oE '[0-9]+' | tr '\n' ' ')
rm -f "$nova_log"
passed=$((passed + ${np:-0})); failed=$((failed + ${nf:-1})); skipped=$((skipped + ${ns:-0}))
[ "$nova_rc" -eq 0 ] || rc=1
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
