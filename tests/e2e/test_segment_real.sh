#!/usr/bin/env bash
# Segmentation of the real public data sets (../shared/data) through ingest
# and segment:
#   - Online Retail and CDNOW (transactions layout, columns mapped with
#     --set): every customer's features, RFM scores and segment equal an
#     independent pandas computation (tests/ref/segment_ref.py);
#   - the clustering against scikit-learn (tests/ref/kmeans_check.py):
#     transform, labels, inertia, CH, DB, silhouette, and inertia within
#     0.5 % of KMeans(n_init=10) at the chosen k;
#   - segcast predict on the training customers reproduces their clusters;
#   - the same output files at 1, 2, 3 and 4 ranks (the store written at
#     one rank is read at the others).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
py=/usr/bin/python3
files="customer_segments.csv segment_profiles.csv rfm_segments.csv rfm_grid.csv model_selection.csv kmeans_model.json"
xz -dc "$SEGCAST_SHARED/data/online_retail_2010-2011.csv.xz" > "$tmp/or.csv"
xz -dc "$SEGCAST_SHARED/data/cdnow_master.csv.xz" > "$tmp/cdnow.csv"
run() { local n=$1; shift; if [ "$n" = 1 ]; then "$SEGCAST_BIN" "$@"; else $SEGCAST_MPIRUN -np "$n" "$SEGCAST_BIN" "$@"; fi; }

predict_check() { # outdir
  "$SEGCAST_BIN" predict --model "$1" --in "$1/customer_segments.csv" --out "$tmp/pred.csv" > /dev/null
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cluster") c = i } { print $1 "," $c }' \
    "$1/customer_segments.csv" > "$tmp/want"
  cut -d, -f1,2 "$tmp/pred.csv" | cmp - "$tmp/want" || { echo "predict does not reproduce the clusters of $1"; exit 1; }
  echo "ok  predict reproduces all $(($(wc -l < "$tmp/want") - 1)) training clusters"
}

OR="--set input.layout=online-retail --set input.path=$tmp/or.csv --set forecast.enabled=false"
CD="--set input.layout=transactions --set input.path=$tmp/cdnow.csv --set input.user=customer_id
    --set input.date=date --set input.quantity=number_of_cds --set input.amount=dollar_value --set forecast.enabled=false"

echo "== Online Retail"
run 1 ingest $OR --set run.out="$tmp/or1" > /dev/null
run 1 segment $OR --set run.out="$tmp/or1" > /dev/null
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" online-retail "$tmp/or.csv" "$tmp/or1/customer_segments.csv"
$py "$SEGCAST_ROOT/tests/ref/kmeans_check.py" "$tmp/or1"
predict_check "$tmp/or1"
for n in 2 3 4; do
  run "$n" segment $OR --set run.store="$tmp/or1/store.h5" --set run.out="$tmp/or$n" > /dev/null
  for f in $files; do cmp "$tmp/or1/$f" "$tmp/or$n/$f" || { echo "$f differs at $n ranks"; exit 1; }; done
  echo "ok  Online Retail outputs identical at 1 and $n ranks"
done

echo "== CDNOW"
run 1 ingest $CD --set run.out="$tmp/cd1" > /dev/null
run 1 segment $CD --set run.out="$tmp/cd1" > /dev/null
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" cdnow "$tmp/cdnow.csv" "$tmp/cd1/customer_segments.csv"
$py "$SEGCAST_ROOT/tests/ref/kmeans_check.py" "$tmp/cd1"
predict_check "$tmp/cd1"
run 4 segment $CD --set run.store="$tmp/cd1/store.h5" --set run.out="$tmp/cd4" > /dev/null
for f in $files; do cmp "$tmp/cd1/$f" "$tmp/cd4/$f" || { echo "$f differs at 4 ranks"; exit 1; }; done
echo "ok  CDNOW outputs identical at 1 and 4 ranks"
echo "segmentation of the real data sets: ok"
