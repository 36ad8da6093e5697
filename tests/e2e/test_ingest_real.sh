#!/usr/bin/env bash
# Ingest of the real public data sets (../shared/data), checked against an
# independent pandas computation (tests/ref/ingest_ref.py):
#   Online Retail: 541,909 rows read, 0 rejected; valid, cancelled, return
#   lines and lines without a customer as pandas counts them from DATA.md 2;
#   CDNOW through the transactions layout (columns mapped with --set):
#   69,659 rows read, 0 rejected.
# Usage: test_ingest_real.sh RANKS
set -euo pipefail
ranks=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xz -dc "$SEGCAST_SHARED/data/online_retail_2010-2011.csv.xz" > "$tmp/or.csv"
xz -dc "$SEGCAST_SHARED/data/cdnow_master.csv.xz" > "$tmp/cdnow.csv"
run() { if [ "$ranks" = 1 ]; then "$SEGCAST_BIN" "$@"; else $SEGCAST_MPIRUN -np "$ranks" "$SEGCAST_BIN" "$@"; fi; }

run ingest --set input.layout=online-retail --set input.path="$tmp/or.csv" --set run.out="$tmp/or"
/usr/bin/python3 "$SEGCAST_ROOT/tests/ref/ingest_ref.py" online-retail "$tmp/or.csv" "$tmp/or/summary.json"
test "$(wc -l < "$tmp/or/rejects.csv")" = 1 || { echo "rejects.csv should hold only its header"; exit 1; }

run ingest --set input.layout=transactions --set input.path="$tmp/cdnow.csv" \
  --set input.user=customer_id --set input.date=date --set input.quantity=number_of_cds \
  --set input.amount=dollar_value --set run.out="$tmp/cd"
/usr/bin/python3 "$SEGCAST_ROOT/tests/ref/ingest_ref.py" cdnow "$tmp/cdnow.csv" "$tmp/cd/summary.json"
# a single-file layout's steps (summary.json seconds_steps.ingest)
/usr/bin/python3 - "$tmp/or/summary.json" "$tmp/cd/summary.json" <<'PY'
import json, sys
for path, name in zip(sys.argv[1:], ["or.csv", "cdnow.csv"]):
    d = json.load(open(path))
    steps = d["seconds_steps"]["ingest"]
    assert list(steps) == [name, "lines to their users' ranks", "counts, rejects, summary", "store write"], list(steps)
    assert sum(steps.values()) <= d["seconds"]["ingest"], (steps, d["seconds"])
PY
echo "ingest of the real data sets at $ranks rank(s): ok"
