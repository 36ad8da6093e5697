#!/usr/bin/env bash
# Segmentation of a generated marketplace data set (segcast generate,
# 80,000 users, so more than 65,536 customers and the k-means seedings run
# on a sample: users, orders, clicks; every feature of DATA.md 3 incl.
# avg_discount_rate, clicks_90d and tenure from users.csv):
#   - every customer's features, scores and segment equal pandas
#     (tests/ref/segment_ref.py), also with run.as_of before the end;
#   - the clustering against scikit-learn (tests/ref/kmeans_check.py);
#   - predict reproduces the training clusters;
#   - the same outputs at 1 and 3 ranks with 2 threads.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
py=/usr/bin/python3
files="customer_segments.csv segment_profiles.csv rfm_segments.csv rfm_grid.csv model_selection.csv kmeans_model.json"
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/data" --users 80000 --seed 7 > /dev/null
S="--set input.layout=marketplace --set input.path=$tmp/data --set forecast.enabled=false"
"$SEGCAST_BIN" ingest $S --set run.out="$tmp/o1" > /dev/null
"$SEGCAST_BIN" segment $S --set run.out="$tmp/o1" > /dev/null
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" marketplace "$tmp/data" "$tmp/o1/customer_segments.csv"
grep -q '"kmeans_sample": 65536' "$tmp/o1/summary.json" || { echo "expected seedings on the k-means sample"; exit 1; }
$py "$SEGCAST_ROOT/tests/ref/kmeans_check.py" "$tmp/o1"
"$SEGCAST_BIN" predict --model "$tmp/o1" --in "$tmp/o1/customer_segments.csv" --out "$tmp/pred.csv" > /dev/null
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cluster") c = i } { print $1 "," $c }' \
  "$tmp/o1/customer_segments.csv" > "$tmp/want"
cut -d, -f1,2 "$tmp/pred.csv" | cmp - "$tmp/want" || { echo "predict does not reproduce the clusters"; exit 1; }
echo "ok  predict reproduces the training clusters"
OMP_NUM_THREADS=2 $SEGCAST_MPIRUN -np 3 "$SEGCAST_BIN" segment $S --set run.store="$tmp/o1/store.h5" \
  --set run.out="$tmp/o3" > /dev/null
for f in $files; do cmp "$tmp/o1/$f" "$tmp/o3/$f" || { echo "$f differs at 3 ranks x 2 threads"; exit 1; }; done
echo "ok  outputs identical at 1 rank and 3 ranks x 2 threads"
# an analysis date inside the data: later lines and clicks do not count
"$SEGCAST_BIN" segment $S --set run.store="$tmp/o1/store.h5" --set run.out="$tmp/asof" \
  --set run.as_of=2023-09-15 --set segment.k=4 > /dev/null
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" marketplace "$tmp/data" "$tmp/asof/customer_segments.csv" \
  --as-of 2023-09-15
echo "segmentation of a generated data set: ok"
