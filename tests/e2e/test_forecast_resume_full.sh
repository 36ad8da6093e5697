#!/usr/bin/env bash
# Checkpoint and restart with fixed-point gradients kept across trees
# (squared error on every row, forecast.subsample = 1: the root histogram of
# each tree is the last one's plus its leaves' changes): stopped after round
# 7 at 2 ranks, resumed at 1 rank, the outputs equal an uninterrupted run
# byte for byte (the resume rebuilds the gradients from the saved trees).
# test_forecast_checkpoint.sh covers row and feature sampling and Poisson.
set -euo pipefail
export OMP_WAIT_POLICY=passive
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$SEGCAST_BIN" generate --out "$tmp/data" --users 3000 --seed 3 > /dev/null
C=(--set input.path="$tmp/data" --set run.checkpoint_seconds=0)
"$SEGCAST_BIN" ingest "${C[@]}" --set run.out="$tmp/st" > /dev/null
S=("${C[@]}" --set run.store="$tmp/st/store.h5" --set forecast.rounds=20 --set forecast.max_depth=6)
$SEGCAST_MPIRUN -np 2 "$SEGCAST_BIN" forecast "${S[@]}" --set run.out="$tmp/ref" > "$tmp/ref.log" 2>&1
rc=0
SEGCAST_TEST_SIGNAL_AT=forecast:7:1 $SEGCAST_MPIRUN -np 2 "$SEGCAST_BIN" forecast "${S[@]}" --set run.out="$tmp/a" \
  > "$tmp/a.log" 2>&1 || rc=$?
[ "$rc" = 75 ] || { echo "FAIL: the stopped run exited $rc, not 75"; tail -n 3 "$tmp/a.log"; exit 1; }
"$SEGCAST_BIN" forecast "${S[@]}" --set run.out="$tmp/a" > "$tmp/a2.log" 2>&1
grep -q "forecast: resumed from the checkpoint after 7 rounds" "$tmp/a2.log" || { echo "FAIL: did not resume"; exit 1; }
for f in gbdt_model.json forecast.csv feature_importance.csv; do
  cmp "$tmp/ref/$f" "$tmp/a/$f" || { echo "FAIL: $f differs after the resume"; exit 1; }
done
echo "resume with fixed-point gradients across trees: identical outputs: ok"
