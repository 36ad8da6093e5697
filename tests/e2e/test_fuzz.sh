#!/usr/bin/env bash
# Runs the libFuzzer target FUZZER for SECONDS from the seeds of
# tests/fuzz/corpus/ (new inputs go to a temporary folder, never into the
# repository). A difference from the reference, a crash, a sanitizer report
# or an input slower than 10 s fails the test; the input is kept in
# tests/fuzz/found/ to become a seed and a regression case.
# Usage: test_fuzz.sh FUZZER SECONDS
set -uo pipefail
fuzzer=$1 seconds=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/new" "$tmp/art"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$tmp/art/" "$tmp/new" "$SEGCAST_ROOT/tests/fuzz/corpus" > "$tmp/log" 2>&1
rc=$?
runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$tmp/log" | grep -oE '[0-9]+$')
if [ "$rc" != 0 ]; then
  grep -E 'fuzz_csv:|ERROR|SUMMARY' "$tmp/log" | head -5
  mkdir -p "$SEGCAST_ROOT/tests/fuzz/found"
  cp "$tmp"/art/* "$SEGCAST_ROOT/tests/fuzz/found/" 2>/dev/null
  echo "fuzz_csv failed (exit $rc); the input is in tests/fuzz/found/"
  exit 1
fi
# a run that did not fuzz proves nothing
if [ -z "$runs" ] || [ "$runs" -lt 10000 ]; then
  echo "fuzz_csv ran only ${runs:-0} inputs in $seconds s"
  tail -5 "$tmp/log"
  exit 1
fi
echo "fuzz_csv: $runs inputs in $seconds s, every one read as the reference reads it"
