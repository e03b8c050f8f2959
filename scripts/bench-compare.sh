#!/usr/bin/env bash
# Runs the same benchmarks on a base commit and on this tree, one after the other in one run, so the two sets of
# figures come from the same machine state. Usage: scripts/bench-compare.sh BASE_COMMIT [BenchmarkDotNet args]
# e.g. scripts/bench-compare.sh c2f2274 --filter '*TransformBenchmarks*'. The base is exported with git archive into
# a directory keyed by its commit (built once, kept for later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(git rev-parse --verify "${1:?usage: $0 BASE_COMMIT [BenchmarkDotNet args]}^{commit}")
shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--filter '*TransformBenchmarks*')
basedir=${TMPDIR:-/tmp}/libvirt-nvlink-bench-base-$base
if [ ! -f "$basedir/.built" ]; then
    rm -rf "$basedir" && mkdir -p "$basedir"
    git archive "$base" | tar -x -C "$basedir"
    dotnet build "$basedir/benchmarks/LibvirtNvlink.Benchmarks" -c Release >/dev/null
    touch "$basedir/.built"
fi
dotnet build benchmarks/LibvirtNvlink.Benchmarks -c Release >/dev/null
dll=benchmarks/LibvirtNvlink.Benchmarks/bin/Release/net10.0/LibvirtNvlink.Benchmarks.dll
for side in base head base head; do
    if [ "$side" = base ]; then dir=$basedir; label="base ${base:0:7}"; else dir=.; label="head $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"; fi
    echo "=== $label"
    (cd "$dir" && dotnet "$dll" "${args[@]}" --artifacts "${TMPDIR:-/tmp}/libvirt-nvlink-bench-artifacts" 2>&1) |
        sed -n '/^| *Method/,/^$/p'
done
