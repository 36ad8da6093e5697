#!/usr/bin/env bash
# Lifetime value on the real CDNOW data (../shared/data) through the
# transactions layout (issue 16):
#   - clv.holdout_days = 273 (the papers' 39 + 39 weeks): the parameters,
#     both log-likelihoods and every customer's values equal the scipy
#     reference written from the papers (tests/ref/clv_ref.py) within 1e-6
#     relative, the estimates are within 15 % of the published ones, the
#     holdout totals agree;
#   - the same without a holdout (a 365-day horizon), and on only the
#     customers with a repeat transaction (every x > 0);
#   - the same bytes (clv.csv, the small CSVs, summary.json's clv block less
#     timings, results.h5's /clv) at 1, 2, 3 and 4 ranks and at 2 ranks x 2
#     threads, from a store written at 1 rank;
#   - segcast run (segment + clv) at 2 ranks: segment_profiles.csv and
#     rfm_segments.csv carry per-segment mean P(alive), churned share and
#     total CLV equal to those recomputed from clv.csv and
#     customer_segments.csv; results.h5 /clv/customers equals clv.csv;
#     report.html's numbers equal summary.json's and the CSVs', and headless
#     Chromium draws every lifetime-value chart (P(alive), Lorenz curve, CLV
#     by cluster and RFM segment, the holdout calibration and tracking).
set -euo pipefail
source "$(dirname "$0")/test_clv_common.sh"
source "$(dirname "$0")/test_report_common.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
py=/usr/bin/python3
REF="$SEGCAST_ROOT/tests/ref/clv_ref.py"
xz -dc "$SEGCAST_SHARED/data/cdnow_master.csv.xz" > "$tmp/cdnow.csv"
CD="--set input.layout=transactions --set input.path=$tmp/cdnow.csv --set input.user=customer_id --set input.date=date
    --set input.quantity=number_of_cds --set input.amount=dollar_value --set forecast.enabled=false"
COLS="--user customer_id --date date --amount dollar_value --quantity number_of_cds"
run() { local n=$1; shift; if [ "$n" = 1 ]; then "$SEGCAST_BIN" "$@"; else $SEGCAST_MPIRUN -np "$n" "$SEGCAST_BIN" "$@"; fi; }

"$SEGCAST_BIN" ingest $CD --set run.out="$tmp/st" > /dev/null
S="$CD --set run.store=$tmp/st/store.h5"

echo "== holdout 273 days against the reference"
run 1 clv $S --set clv.holdout_days=273 --set run.out="$tmp/h1" > "$tmp/log" || { cat "$tmp/log"; fail "segcast clv"; }
$py "$REF" check "$tmp/cdnow.csv" "$tmp/h1" $COLS --holdout 273 --published || fail "holdout 273 differs from the reference"

echo "== no holdout (365-day horizon) against the reference"
run 2 clv $S --set run.out="$tmp/n2" > /dev/null
$py "$REF" check "$tmp/cdnow.csv" "$tmp/n2" $COLS --horizon 365 || fail "horizon 365 differs from the reference"

echo "== only customers with a repeat transaction (every x > 0)"
$py - "$tmp/cdnow.csv" "$tmp/rep.csv" <<'EOF'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1], dtype=str)
v = d[(pd.to_numeric(d.dollar_value) > 0) & (pd.to_numeric(d.number_of_cds) > 0)]
cal = v[v.date <= "1997-09-30"]
days = cal.groupby("customer_id")["date"].nunique()
d[d.customer_id.isin(days[days >= 2].index)].to_csv(sys.argv[2], index=False)
EOF
R="${CD//$tmp\/cdnow.csv/$tmp/rep.csv}"
"$SEGCAST_BIN" ingest $R --set run.out="$tmp/rst" > /dev/null
run 1 clv $R --set run.store="$tmp/rst/store.h5" --set run.out="$tmp/rep" --set clv.holdout_days=273 > /dev/null
$py - "$tmp/rep/clv.csv" <<'EOF' || fail "a customer without a repeat transaction in the x > 0 data set"
import sys, pandas as pd
c = pd.read_csv(sys.argv[1])
assert (c.x > 0).all() and len(c) > 5000, (len(c), int((c.x == 0).sum()))
EOF
$py "$REF" check "$tmp/rep.csv" "$tmp/rep" $COLS --holdout 273 || fail "x > 0 data set differs from the reference"

echo "== the same bytes at 2, 3, 4 ranks and 2 threads"
same() {
  clv_same "$1" "$2"
}
for n in 2 3 4; do
  run "$n" clv $S --set clv.holdout_days=273 --set run.out="$tmp/h$n" > /dev/null
  same "$tmp/h1" "$tmp/h$n"
  echo "ok  identical at 1 and $n ranks"
done
OMP_NUM_THREADS=2 $SEGCAST_MPIRUN -np 2 -x OMP_NUM_THREADS "$SEGCAST_BIN" clv $S --set clv.holdout_days=273 \
  --set run.out="$tmp/t2" > /dev/null
same "$tmp/h1" "$tmp/t2"
echo "ok  identical at 1 rank x 1 thread and 2 ranks x 2 threads"

echo "== segcast run: CLV by segment"
run 2 run --config "$SEGCAST_ROOT/configs/small.ini" $CD --set generate.users=0 --set clv.holdout_days=273 \
  --set run.out="$tmp/all" --set run.store="$tmp/all/store.h5" > "$tmp/log" 2>&1 || { tail -20 "$tmp/log"; fail "segcast run"; }
cmp "$tmp/h1/clv.csv" "$tmp/all/clv.csv" || fail "clv.csv of segcast run differs from segcast clv"
$py - "$tmp/all" <<'EOF' || fail "CLV by segment"
import sys, h5py, numpy as np, pandas as pd
o = sys.argv[1]
c = pd.read_csv(o + "/clv.csv")
s = pd.read_csv(o + "/customer_segments.csv")[["user_id", "cluster", "rfm_segment"]]
j = c.merge(s, on="user_id", how="left")
assert j.cluster.notna().all()
for name, key in (("segment_profiles.csv", "cluster"), ("rfm_segments.csv", "rfm_segment")):
    t = pd.read_csv(o + "/" + name)
    assert list(t.columns[-3:]) == ["p_alive_mean", "churned_share", "clv_total"], list(t.columns)
    g = j.groupby(key)
    for _, row in t.iterrows():
        part = j[j[key] == row[key]]
        if len(part) == 0:
            assert np.isnan(row.p_alive_mean), row
            continue
        for col, want in (("p_alive_mean", part.p_alive.mean()), ("churned_share", part.churned.mean()),
                          ("clv_total", part.clv.sum())):
            assert abs(row[col] - want) <= 1e-6 * max(1, abs(want)) + 2e-6, (name, row[key], col, row[col], want)
    print(f"ok  {name}: {len(t)} segments' CLV columns equal the recomputation")
h = h5py.File(o + "/results.h5", "r")["clv/customers"]
for col in ("user_id", "x", "p_alive", "expected_purchases", "expected_value", "clv", "holdout_purchases"):
    assert np.allclose(h[col][()], c[col].to_numpy(), rtol=1e-9, atol=0), col
print("ok  results.h5 /clv/customers equals clv.csv")
EOF
report_numbers "$tmp/all" || fail "report numbers"
report_browser "$tmp/all" --expect clv-p-alive,clv-lorenz,clv-clusters,clv-rfm,clv-calibration,clv-tracking ||
  fail "browser check of the lifetime-value charts"
echo "CDNOW lifetime value: ok"
