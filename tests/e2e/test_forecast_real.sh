#!/usr/bin/env bash
# The forecast stage on Online Retail (online-retail layout: StockCode x
# Country series from their first sale to the end of the data, 4.3 million
# rows): the demand table equals the pandas reference row by row, XGBoost
# 1.7 loads gbdt_model.json and predicts segcast's test predictions, and
# forecast.csv names skus and countries as the input does.
# Usage: test_forecast_real.sh RANKS
set -euo pipefail
ranks=${1:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
xz -dc "$SEGCAST_SHARED/data/online_retail_2010-2011.csv.xz" > "$tmp/or.csv"
run() { if [ "$ranks" = 1 ]; then "$SEGCAST_BIN" "$@"; else $SEGCAST_MPIRUN -np "$ranks" "$SEGCAST_BIN" "$@"; fi; }
set=(--set input.layout=online-retail --set input.path="$tmp/or.csv" --set run.out="$tmp/out"
     --set forecast.rounds=20 --set forecast.max_depth=6 --set forecast.max_bin=64)
run ingest "${set[@]}" > /dev/null
run forecast "${set[@]}" | grep -E "forecast: (demand|test)"
/usr/bin/python3 "$SEGCAST_ROOT/tests/ref/demand_ref.py" online-retail "$tmp/or.csv" "$tmp/out"
/usr/bin/python3 - "$tmp/out" <<'EOF'
import sys
import h5py, numpy as np, pandas as pd, xgboost as xgb
out = sys.argv[1]
feats = ["avg_price", "avg_discount_rate", "availability", "lead_time_hours", "dow", "dom", "month", "week",
         "lag_1", "lag_7", "lag_14", "lag_28", "roll_mean_7", "roll_mean_28"]
with h5py.File(f"{out}/results.h5", "r") as f:
    g, r = f["forecast/demand"], f["forecast/rows"]
    test = r["set"][:] == 2
    X = np.column_stack([g[c][:][test] for c in feats]).astype(np.float32)
    mine = r["predicted"][:][test]
p = xgb.Booster(model_file=f"{out}/gbdt_model.json").predict(xgb.DMatrix(X, feature_names=feats))
diff = float(np.max(np.abs(p - mine)))
print(f"XGBoost on {len(p)} test rows: max abs difference {diff:.3g}")
assert diff <= 1e-4
fc = pd.read_csv(f"{out}/forecast.csv", dtype={"sku_id": str, "region_id": str})
assert len(fc) == len(p)
assert fc["sku_id"].str.match(r"^[0-9]{5}").all(), "sku_id must be the StockCode"
assert "United Kingdom" in set(fc["region_id"]), "region_id must be the Country"
assert fc["date"].max() == "2011-12-09" and fc["date"].min() == "2011-11-12"
EOF
echo "forecast on Online Retail at $ranks rank(s): demand table equals pandas, XGBoost predicts the same: ok"
