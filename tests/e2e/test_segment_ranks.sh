#!/usr/bin/env bash
# The segment stage on synthetic data built in memory by
# tests/mpi/segment_driver (no ingest), at 1, 2, 3 and 4 ranks and 1 or 2
# threads:
#   - every output file is the same bytes, and every /segment table of
#     results.h5 the same values, at every rank and thread count;
#   - every customer's features, scores and segment equal an independent
#     pandas computation (tests/ref/segment_ref.py), for the marketplace
#     and transactions layouts and with run.as_of set before the end;
#   - segcast predict on the training customers gives their clusters back;
#   - a rank with no customers (3 users at 4 ranks) works;
#   - bad input stops with one clear line.
set -euo pipefail
drv=${SEGCAST_SEGMENT_DRIVER:?set by tests/segment.cmake}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
# idle OpenMP threads sleep instead of spinning: 4 ranks x 2 threads share 2 cores
export OMP_WAIT_POLICY=passive
files="customer_segments.csv segment_profiles.csv rfm_segments.csv rfm_grid.csv model_selection.csv kmeans_model.json"

run() { # ranks threads outdir args...
  local n=$1 t=$2 out=$3
  shift 3
  OMP_NUM_THREADS=$t $SEGCAST_MPIRUN -np "$n" "$drv" "$out" "$@" > "$out.log" 2>&1 || { cat "$out.log"; return 1; }
}

same_h5() {
  $py - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
bad = []
def walk(name, obj):
    if isinstance(obj, h5py.Dataset):
        x, y = obj[()], b[name][()]
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            bad.append(name)
a["segment"].visititems(lambda n, o: walk("segment/" + n, o))
if bad:
    sys.exit("results.h5 differs in " + ", ".join(bad))
EOF
}

for layout in marketplace transactions; do
  run 1 1 "$tmp/$layout-1" 2500 "$layout" --set segment.k_max=7
  $py "$SEGCAST_ROOT/tests/ref/segment_ref.py" driver "$tmp/$layout-1" "$tmp/$layout-1/customer_segments.csv" "$layout"
  for nt in "2 2" "3 1" "4 2"; do
    set -- $nt
    run "$1" "$2" "$tmp/$layout-$1" 2500 "$layout" --set segment.k_max=7
    for f in $files; do
      cmp "$tmp/$layout-1/$f" "$tmp/$layout-$1/$f" || { echo "$f differs between 1 and $1 ranks ($layout)"; exit 1; }
    done
    same_h5 "$tmp/$layout-1/results.h5" "$tmp/$layout-$1/results.h5"
  done
  # predict on the training customers reproduces their clusters
  "$SEGCAST_BIN" predict --model "$tmp/$layout-1" --in "$tmp/$layout-1/customer_segments.csv" --out "$tmp/pred.csv"
  cut -d, -f1 "$tmp/$layout-1/customer_segments.csv" > "$tmp/u"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cluster") c = i } { print $1 "," $c }' \
    "$tmp/$layout-1/customer_segments.csv" > "$tmp/want"
  cut -d, -f1,2 "$tmp/pred.csv" > "$tmp/got"
  cmp "$tmp/want" "$tmp/got" || { echo "predict does not reproduce the training clusters ($layout)"; exit 1; }
  echo "$layout: identical at 1-4 ranks, equal to pandas, predict reproduces $(($(wc -l < "$tmp/got") - 1)) clusters"
done

# run.as_of before the end of the data: later lines are not counted
run 2 1 "$tmp/asof" 1500 marketplace --set run.as_of=2022-03-01 --set segment.k=3
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" driver "$tmp/asof" "$tmp/asof/customer_segments.csv" marketplace \
  --as-of 2022-03-01
grep -q '"as_of": "2022-03-01"' "$tmp/asof/summary.json"

# three customers on four ranks: empty ranks take part in every step
run 4 1 "$tmp/tiny" 3 transactions --set segment.k_min=2 --set segment.k_max=5
test "$(wc -l < "$tmp/tiny/customer_segments.csv")" = 4
test "$(tail -n +2 "$tmp/tiny/model_selection.csv" | wc -l)" = 2 # k = 2, 3 only
run 1 1 "$tmp/tiny1" 3 transactions --set segment.k_min=2 --set segment.k_max=5
cmp "$tmp/tiny/customer_segments.csv" "$tmp/tiny1/customer_segments.csv"

# errors: one clear line, no partial outputs
expect_error() { # pattern command...
  local pat=$1
  shift
  if "$@" > "$tmp/err.log" 2>&1; then echo "expected a failure: $*"; exit 1; fi
  grep -q "$pat" "$tmp/err.log" || { echo "expected '$pat' in:"; cat "$tmp/err.log"; exit 1; }
}
expect_error "clicks_90d', which the transactions layout does not have" \
  run 2 1 "$tmp/bad1" 200 transactions --set segment.features=recency_days,clicks_90d
test ! -e "$tmp/bad1/customer_segments.csv"
expect_error "not a customer feature" run 1 1 "$tmp/bad2" 200 marketplace --set segment.features=recency,monetary
expect_error "fewer than segment.k = 9" run 1 1 "$tmp/bad3" 5 marketplace --set segment.k=9
expect_error "has no columns for: recency_days frequency monetary" \
  "$SEGCAST_BIN" predict --model "$tmp/marketplace-1" --in "$tmp/u" --out "$tmp/p2.csv"
test ! -e "$tmp/p2.csv"
printf 'user_id,recency_days,frequency,monetary\n1,3,x,5\n' > "$tmp/badrow.csv"
expect_error "badrow.csv line 2: frequency = 'x' is not a number" \
  "$SEGCAST_BIN" predict --model "$tmp/marketplace-1" --in "$tmp/badrow.csv" --out "$tmp/p3.csv"
expect_error "cannot read model" "$SEGCAST_BIN" predict --model "$tmp/nowhere" --in "$tmp/badrow.csv" --out "$tmp/p4.csv"
echo "segment at 1-4 ranks: ok"
