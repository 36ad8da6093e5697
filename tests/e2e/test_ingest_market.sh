#!/usr/bin/env bash
# Marketplace ingest against an independent pandas computation
# (tests/ref/market_ref.py), at RANKS ranks, on a generated data set with
# hand-made traps appended: a duplicate user_id (the later row is rejected),
# an order whose first delivery row has no arrival and whose second has one,
# a later delivery row for an already delivered order (ignored), an order
# line whose dc_ori is not in network.csv (region -1), and a stock row far
# outside the others' (sku, day) box, so the inventory sums take their hash
# path on the rank that holds it and their dense path elsewhere. At 2 ranks
# the network also gains a DC with a far-away id and a line from it, so the
# DC -> region lookups search instead of indexing an array.
# ORDER "as-generated" (the default) keeps the files as they are,
# "shuffled-orders" shuffles the lines of orders.csv (the ranks' order
# ids then overlap: the delivery join spreads orders by hash), and
# "shuffled-delivery" those of delivery.csv (order ids stay in rising ranges
# per rank, so each rank answers for its own, but delivery rows travel).
# USERS (default 3000) sizes the data set: orders.csv needs more than one
# 1 MiB read block (about 2,300 users) before a second rank holds lines.
# THREADS (default 1) threads per rank: the delivery join and the sorts run
# their threaded loops at more than one.
# Usage: test_ingest_market.sh RANKS [ORDER [USERS [THREADS]]]
set -euo pipefail
ranks=${1:-1}
order=${2:-}
users=${3:-3000}
export OMP_NUM_THREADS=${4:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/d" --users "$users" --seed 11 > /dev/null
d="$tmp/d"
first_user=$(sed -n 2p "$d/users.csv")
echo "${first_user%%,*},2020-01-01,33,F,2" >> "$d/users.csv"             # duplicate user_id
delivered=$(awk -F, 'NR>1 && $3!="" {print $1; exit}' "$d/delivery.csv")
echo "$delivered,2023-06-01 10:00:00,2023-06-02 10:00:00" >> "$d/delivery.csv"  # later row: ignored
u=$(sed -n 2p "$d/users.csv" | cut -d, -f1)
echo "99000001,$u,1,2023-05-05 12:00:00,2,10.00,8.00,11" >> "$d/orders.csv"
echo "99000001,2023-05-05 13:00:00," >> "$d/delivery.csv"                # no arrival first
echo "99000001,2023-05-05 14:00:00,2023-05-07 09:30:00" >> "$d/delivery.csv"
echo "99000002,$u,2,2023-05-06 12:00:00,1,5.00,5.00,999" >> "$d/orders.csv" # unknown DC
dc=$(sed -n 2p "$d/network.csv" | cut -d, -f1)
if [ "$ranks" = 2 ]; then
  echo "7000001,$(sed -n 2p "$d/network.csv" | cut -d, -f2)" >> "$d/network.csv"
  echo "99000003,$u,3,2023-05-07 12:00:00,1,4.00,4.00,7000001" >> "$d/orders.csv"
fi
echo "2031-01-01,$dc,99999999,1" >> "$d/inventory.csv"  # far key: the hash path of the inventory sums
shuffle() { # the data lines of a CSV file in a fixed random order
  { head -1 "$1"; tail -n +2 "$1" | shuf --random-source=<(yes 7); } > "$1.tmp" && mv "$1.tmp" "$1"
}
case "$order" in
  shuffled-orders) shuffle "$d/orders.csv" ;;
  shuffled-delivery) shuffle "$d/delivery.csv" ;;
  ""|as-generated) ;;
  *) echo "unknown ORDER $order"; exit 2 ;;
esac
if [ "$ranks" = 1 ]; then run=("$SEGCAST_BIN"); else run=($SEGCAST_MPIRUN -np "$ranks" -x OMP_NUM_THREADS "$SEGCAST_BIN"); fi
"${run[@]}" ingest --set input.layout=marketplace --set input.path="$d" --set run.out="$tmp/out" > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
grep -q '^users.csv,[0-9]*,duplicate user_id,' "$tmp/out/rejects.csv" || { echo "duplicate user_id not rejected"; cat "$tmp/out/rejects.csv"; exit 1; }
/usr/bin/python3 "$SEGCAST_ROOT/tests/ref/market_ref.py" "$d" "$tmp/out/store.h5" "$tmp/out/summary.json"
# the stage's steps (summary.json seconds_steps.ingest): every step of the
# layout, in the order they ran, adding up to the stage's time (the network
# file, read before the steps' clock starts, is the only time outside them)
/usr/bin/python3 - "$tmp/out/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
steps = d["seconds_steps"]["ingest"]
want = ["users.csv", "orders.csv", "delivery.csv", "delivery join", "lines to their users' ranks",
        "clicks.csv, to their users' ranks", "inventory.csv, sums", "skus.csv", "counts, rejects, summary", "store write"]
assert list(steps) == want, list(steps)
total, stage = sum(steps.values()), d["seconds"]["ingest"]
assert all(v >= 0 for v in steps.values()) and 0.5 * stage <= total <= stage, (total, stage)
PY
