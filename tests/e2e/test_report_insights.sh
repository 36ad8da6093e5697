#!/usr/bin/env bash
# Insights on a lines fixture (no ingest): the CSVs are the same bytes at 1,
# 2, 3 and 4 ranks (and 2 threads), and equal an independent pandas computation
# (tests/ref/insights_ref.py), with dictionary names (online-retail style,
# names that need CSV quoting) and with numeric ids (marketplace style).
#   test_report_insights.sh INSIGHTS_DRIVER
set -euo pipefail
source "$(dirname "$0")/test_report_common.sh"
DRIVER="$1"
REF="$SEGCAST_ROOT/tests/ref/insights_ref.py"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for mode in names numeric; do
  fx="$W/fx-$mode"
  if [ "$mode" = numeric ]; then
    "$PY" "$REF" fixture "$fx" --seed 11 --numeric
    sk=- rg=-
  else
    "$PY" "$REF" fixture "$fx" --seed 7
    sk="$fx/sku_names.txt" rg="$fx/region_names.txt"
  fi
  for n in 1 2 3 4; do
    $SEGCAST_MPIRUN -np $n "$DRIVER" "$fx/lines.csv" "$sk" "$rg" "$W/out-$mode-$n" > "$W/log" 2>&1 ||
      { cat "$W/log"; fail "insights driver at $n ranks ($mode)"; }
  done
  OMP_NUM_THREADS=2 $SEGCAST_MPIRUN -np 2 "$DRIVER" "$fx/lines.csv" "$sk" "$rg" "$W/out-$mode-2t" > "$W/log" 2>&1 ||
    { cat "$W/log"; fail "insights driver at 2 ranks x 2 threads ($mode)"; }
  for f in "$W/out-$mode-1"/*.csv; do
    for n in 2 3 4 2t; do
      cmp "$f" "$W/out-$mode-$n/$(basename "$f")" || fail "$(basename "$f") differs between 1 and $n ranks ($mode)"
    done
  done
  for f in monthly_revenue seasonality_month seasonality_weekday cohort_retention lorenz revenue_concentration \
           top_products top_regions daily_sales; do
    [ -s "$W/out-$mode-1/$f.csv" ] || fail "$f.csv missing ($mode)"
  done
  "$PY" "$REF" check "$W/out-$mode-4" --lines "$fx" || fail "insights differ from pandas ($mode)"
done
echo "PASS: insights identical at 1-4 ranks and equal to pandas"
