#!/usr/bin/env bash
# The forecast stage on a generated marketplace (20,000 users, 1,200 series):
#   - the same gbdt_model.json, forecast.csv and feature_importance.csv at
#     1, 2, 3 and 4 ranks and at 2 threads;
#   - the demand table equals the pandas reference (tests/ref/demand_ref.py)
#     row by row;
#   - XGBoost 1.7 loads gbdt_model.json and predicts the test rows as
#     segcast did (max abs difference <= 1e-4);
#   - the boosted trees beat the seasonal-naive baseline on test R2, RMSE
#     and WAPE, and the summary's metrics match a recomputation from
#     forecast.csv;
#   - windows longer than the data stop the run with one clear error.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/data" --users 20000 --seed 7 > /dev/null
common=(--set input.path="$tmp/data" --set run.store="$tmp/store.h5" --set forecast.rounds=60
        --set forecast.max_depth=6 --set forecast.eta=0.2 --set forecast.max_bin=64)
"$SEGCAST_BIN" ingest "${common[@]}" --set run.out="$tmp/ingest" > /dev/null
"$SEGCAST_BIN" forecast "${common[@]}" --set run.out="$tmp/r1" | grep -E "forecast: (demand|test)"
for cfg in "2 1" "3 1" "4 1" "2 2"; do
  set -- $cfg
  OMP_NUM_THREADS=$2 $SEGCAST_MPIRUN -np "$1" "$SEGCAST_BIN" forecast "${common[@]}" --set run.out="$tmp/r$1t$2" > /dev/null
  for f in gbdt_model.json forecast.csv feature_importance.csv; do
    cmp "$tmp/r1/$f" "$tmp/r$1t$2/$f" || { echo "FAIL: $f differs at $1 rank(s) x $2 thread(s)"; exit 1; }
  done
done
# a date range too short for the windows: one clear error, exit status 3
if "$SEGCAST_BIN" forecast "${common[@]}" --set run.out="$tmp/short" --set forecast.valid_days=400 2> "$tmp/err.txt" > /dev/null; then
  echo "FAIL: forecast should refuse a range shorter than its windows"; exit 1
fi
grep -q "no training rows" "$tmp/err.txt" || { echo "FAIL: unclear error: $(cat "$tmp/err.txt")"; exit 1; }
test ! -e "$tmp/short/gbdt_model.json" || { echo "FAIL: a failed run left gbdt_model.json"; exit 1; }
cp "$tmp/store.h5" "$tmp/r1/store.h5"
/usr/bin/python3 "$SEGCAST_ROOT/tests/ref/demand_ref.py" marketplace "$tmp/data" "$tmp/r1"
/usr/bin/python3 - "$tmp/r1" <<'EOF'
import json, sys
import h5py, numpy as np, pandas as pd, xgboost as xgb
out = sys.argv[1]
feats = ["avg_price", "avg_discount_rate", "availability", "lead_time_hours", "dow", "dom", "month", "week",
         "lag_1", "lag_7", "lag_14", "lag_28", "roll_mean_7", "roll_mean_28"]
with h5py.File(f"{out}/results.h5", "r") as f:
    g, r = f["forecast/demand"], f["forecast/rows"]
    test = r["set"][:] == 2
    X = np.column_stack([g[c][:][test] for c in feats]).astype(np.float32)
    mine = r["predicted"][:][test]
b = xgb.Booster(model_file=f"{out}/gbdt_model.json")
assert b.feature_names == feats, b.feature_names
p = b.predict(xgb.DMatrix(X, feature_names=feats))
diff = float(np.max(np.abs(p - mine)))
print(f"XGBoost on {len(p)} test rows: max abs difference {diff:.3g}")
assert diff <= 1e-4
fc = pd.read_csv(f"{out}/forecast.csv")
s = json.load(open(f"{out}/summary.json"))["forecast"]
y = fc["units"].to_numpy(float)
def metrics(pred):
    e = y - pred
    return 1 - (e ** 2).sum() / ((y - y.mean()) ** 2).sum(), np.sqrt((e ** 2).mean()), np.abs(e).sum() / np.abs(y).sum()
m, base = metrics(fc["predicted"].to_numpy()), metrics(fc["baseline"].to_numpy())
print(f"test R2 {m[0]:.4f} RMSE {m[1]:.4f} WAPE {m[2]:.4f}; seasonal-naive R2 {base[0]:.4f} RMSE {base[1]:.4f} WAPE {base[2]:.4f}")
assert s["test_rows"] == len(fc) and s["rows"] > len(fc)
for k, got, want in (("r2", s["r2"], m[0]), ("rmse", s["rmse"], m[1]), ("wape", s["wape"], m[2]),
                     ("baseline r2", s["baseline"]["r2"], base[0]), ("baseline rmse", s["baseline"]["rmse"], base[1])):
    assert abs(got - want) <= 1e-6 * max(1, abs(want)), (k, got, want)
assert m[0] > base[0] and m[1] < base[1] and m[2] < base[2], "the trees must beat the seasonal-naive baseline"
assert (fc["reorder_point"] >= 0).all() and fc["reorder_point"].notna().all()
imp = pd.read_csv(f"{out}/feature_importance.csv")
assert sorted(imp["feature"]) == sorted(feats) and abs(imp["share"].sum() - 1) < 1e-5
EOF
echo "forecast on generated data: identical at 1-4 ranks and 2 threads, demand table equals pandas, beats the baseline: ok"
