#!/usr/bin/env bash
# The whole job on the real Online Retail data at 2 ranks, then:
#  - every insight equals pandas on the raw CSV (tests/ref/insights_ref.py,
#    DATA.md's cleaning done independently);
#  - the report's numbers equal summary.json's and the CSVs';
#  - headless Chromium renders every chart (no console error, no request),
#    the lifetime-value ones included.
# SEGCAST_REPORT_SCREENSHOT=FILE.png saves a screenshot of the page.
set -euo pipefail
source "$(dirname "$0")/test_report_common.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
xz -dc "$SEGCAST_SHARED/data/online_retail_2010-2011.csv.xz" > "$W/or.csv"
O="$W/out"
$SEGCAST_MPIRUN -np 2 "$SEGCAST_BIN" run --config "$SEGCAST_ROOT/configs/small.ini" \
  --set input.layout=online-retail --set input.path="$W/or.csv" --set generate.users=0 \
  --set run.out="$O" --set run.store="$W/store.h5" --set forecast.rounds=10 --set forecast.max_depth=4 > "$W/log" 2>&1 || { tail -30 "$W/log"; fail "segcast run"; }
"$PY" "$SEGCAST_ROOT/tests/ref/insights_ref.py" check "$O" --online-retail "$W/or.csv" || fail "insights differ from pandas"
report_numbers "$O" || fail "report numbers"
shot=()
[ -n "${SEGCAST_REPORT_SCREENSHOT:-}" ] && shot=(--screenshot "$SEGCAST_REPORT_SCREENSHOT")
report_browser "$O" --expect elbow,silhouette,segment-size,segment-share,rfm-grid,rfm-segments,lorenz,cohort,monthly,top-products,top-regions,clv-p-alive,clv-lorenz,clv-clusters,clv-rfm,forecast-total,importance "${shot[@]}" ||
  fail "browser check"
echo "PASS: Online Retail insights and report"
