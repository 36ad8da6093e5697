#!/usr/bin/env bash
# The parallel CSV reader against the sequential reference at RANKS ranks:
# FILES random damaged CSVs, each at 1-3 threads (tests/mpi/csv_diff_driver.c).
# A difference keeps its file in tests/data/csv_diff/found/ for a new
# regression case.
# Usage: test_csv_diff.sh DRIVER RANKS FILES
set -euo pipefail
driver=$1 ranks=$2 files=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$ranks" = 1 ]; then run=("$driver"); else run=($SEGCAST_MPIRUN -np "$ranks" "$driver"); fi
if ! "${run[@]}" "$tmp" "$files" "${ranks}2026"; then
  mkdir -p "$SEGCAST_ROOT/tests/data/csv_diff/found"
  cp "$tmp"/diff_*.csv "$SEGCAST_ROOT/tests/data/csv_diff/found/" 2>/dev/null || true
  exit 1
fi
