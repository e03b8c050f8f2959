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
artifacts=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-nvlink-bench-artifacts.XXXXXX")
trap 'rm -rf "$artifacts"' EXIT
# Alternating runs; on a shared machine the minimum and the median of each are the figures to compare.
for side in base head base head; do
    if [ "$side" = base ]; then dir=$basedir; label="base ${base:0:7}"; else dir=.; label="head $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"; fi
    rm -rf "$artifacts/results"
    (cd "$dir" && dotnet "$dll" "${args[@]}" --exporters json --artifacts "$artifacts" >/dev/null 2>&1)
    /usr/bin/python3 - "$label" "$artifacts"/results/*.json <<'PY'
import json, sys
label = sys.argv[1]
for path in sys.argv[2:]:
    for b in json.load(open(path))["Benchmarks"]:
        s = b["Statistics"]
        alloc = (b.get("Memory") or {}).get("BytesAllocatedPerOperation", 0)
        print(f"{label:24} {b['Method'] + (' ' + b['Parameters'] if b.get('Parameters') else ''):48} min {s['Min']/1e6:9.3f} ms  median {s['Median']/1e6:9.3f} ms  {alloc/1024:8.1f} KB")
PY
done
