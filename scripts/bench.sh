#!/usr/bin/env bash
# Runs the benchmarks and prints their figures. Usage: scripts/bench.sh [BenchmarkDotNet args, e.g. --filter '*Discover*']
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--filter '*')
dotnet run -c Release --project benchmarks/LibvirtNvlink.Benchmarks -- "${args[@]}"
