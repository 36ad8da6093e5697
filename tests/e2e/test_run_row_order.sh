#!/usr/bin/env bash
# The same answer whatever the order of the input rows: the whole job on a
# generated data set as written (each user's rows together, order ids
# rising) and on two copies with the rows of orders, clicks and delivery
# reordered: sorted by their time column (as real exports come) and
# shuffled (users.csv too). Every CSV and model file must be byte-identical
# and summary.json equal but for times, paths and the files' checksums (xxh3).
# 40,000 users: orders.csv spans eighteen 1 MiB read blocks, so each of the
# three ranks holds lines and the delivery join and the sort by user take
# their unordered paths (hash-owned orders, radix argsorts) on the copies.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/as-written" --users 40000 --seed 23 > /dev/null
mkdir "$tmp/time" "$tmp/shuffled"
cp "$tmp"/as-written/*.csv "$tmp/time/"
cp "$tmp"/as-written/*.csv "$tmp/shuffled/"
for spec in orders.csv:4 clicks.csv:3 delivery.csv:2; do
  f=${spec%:*} k=${spec#*:}
  { head -1 "$tmp/as-written/$f"; tail -n +2 "$tmp/as-written/$f" | LC_ALL=C sort -s -t, -k"$k,$k"; } > "$tmp/time/$f"
done
for f in orders.csv clicks.csv delivery.csv users.csv; do
  { head -1 "$tmp/as-written/$f"; tail -n +2 "$tmp/as-written/$f" | shuf --random-source=<(yes 5); } > "$tmp/shuffled/$f"
done
cmp -s "$tmp/as-written/orders.csv" "$tmp/time/orders.csv" && { echo "the time-ordered copy is not reordered"; exit 1; }
for x in as-written time shuffled; do
  $SEGCAST_MPIRUN -np 3 "$SEGCAST_BIN" run --config "$SEGCAST_ROOT/configs/small.ini" --set input.path="$tmp/$x" \
    --set run.out="$tmp/out-$x" > "$tmp/log-$x" 2>&1 || { cat "$tmp/log-$x"; exit 1; }
done
n=0
for f in $(cd "$tmp/out-as-written" && ls *.csv *_model.json); do
  for x in time shuffled; do
    cmp "$tmp/out-as-written/$f" "$tmp/out-$x/$f" || { echo "$f differs with the rows $x"; exit 1; }
  done
  n=$((n + 1))
done
[ "$n" -ge 15 ] || { echo "only $n output files compared"; exit 1; }
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
def clean(x, path=""):
    if isinstance(x, dict):
        return {k: clean(v, path + "/" + k) for k, v in x.items()
                if not (k.startswith("seconds") or k in ("config", "xxh3", "path", "started", "finished"))}
    if isinstance(x, list):
        return [clean(v, path) for v in x]
    return x
a = clean(json.load(open(f"{tmp}/out-as-written/summary.json")))
for x in ("time", "shuffled"):
    b = clean(json.load(open(f"{tmp}/out-{x}/summary.json")))
    assert a == b, (x, [k for k in a if a[k] != b.get(k)])
print("summary.json: the same counts, metrics and choices")
PY
echo "row order: $n output files byte-identical with the rows in time order and shuffled"
