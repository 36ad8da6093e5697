#!/usr/bin/env bash
# The ingest on files that segcast's generator did not write (issue 15):
# bench/gen_independent.py writes a marketplace from DATA.md alone, in the
# order a real export has (orders, clicks and deliveries in time order
# across all users, user ids with gaps, quoted commas), and a manifest of
# what it wrote. Ingested at 1 rank, 2 ranks and 1 rank x 2 threads:
#  - a clean set: the store against the pandas reference
#    (tests/ref/market_ref.py) and every file's accounting against the
#    manifest;
#  - a damaged set (--damage: impossible order dates, quoted newlines in
#    clicks, blank lines in delivery): read / loaded / rejected, lines, blank
#    and continuation lines, the rejected lines' numbers and reason, and the
#    sales figures against the manifest.
# Usage: test_ingest_foreign.sh [USERS]
set -euo pipefail
users=${1:-3000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen="$SEGCAST_ROOT/bench/gen_independent.py"
# 700 skus over 60 days: the inventory sums give the skus dense indices
# through a table that grows past its first 1,024 slots, in a small file
/usr/bin/python3 "$gen" --out "$tmp/clean" --users "$users" --seed 5 --skus 700 --days 60
/usr/bin/python3 "$gen" --out "$tmp/damaged" --users "$users" --seed 6 --damage --crlf
check_manifest() { # DATA OUT
  /usr/bin/python3 - "$1/gen_independent.json" "$2/summary.json" "$2/rejects.csv" <<'PY'
import csv, json, sys
m, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
for name, want in m["files"].items():
    got = s["input"]["files"][name]
    exp = {"read": want["rows"], "loaded": want["rows"] - want["rejected"], "rejected": want["rejected"],
           "lines": want["lines"], "blank": want["blank"], "continuation_lines": want["continuation_lines"]}
    for k, v in exp.items():
        if got[k] != v:
            bad.append(f"{name} {k}: {got[k]}, generator wrote {v}")
    if got["lines"] != 1 + got["blank"] + got["read"] + got["continuation_lines"]:
        bad.append(f"{name}: lines != 1 + blank + read + continuation_lines")
rej = [r for r in csv.DictReader(open(sys.argv[3], newline=""))] if m["files"]["orders.csv"]["rejected"] else []
lines = [int(r["line"]) for r in rej if r["file"] == "orders.csv"]
if lines != m["files"]["orders.csv"]["rejected_lines"]:
    bad.append(f"orders.csv rejected lines {lines[:5]}..., generator damaged {m['files']['orders.csv']['rejected_lines'][:5]}...")
if any(r["reason"] != "bad date in order_time" for r in rej):
    bad.append("a reject's reason is not 'bad date in order_time'")
sales = m["sales"]
for k in ("lines", "valid_lines", "return_lines"):
    if s["sales"][k] != sales[k]:
        bad.append(f"sales.{k}: {s['sales'][k]}, generator wrote {sales[k]}")
if round(s["sales"]["revenue"] * 100) != sales["revenue_cents"]:
    bad.append(f"sales.revenue: {s['sales']['revenue']}, generator wrote {sales['revenue_cents'] / 100}")
if s["sales"]["lines_without_user"] != 0:
    bad.append("lines without a user in a file where every line has one")
for b in bad:
    print("BAD", b)
print("ok  accounting of", sys.argv[1]) if not bad else None
sys.exit(1 if bad else 0)
PY
}
for set in clean damaged; do
  for split in 1x1 2x1 1x2; do
    ranks=${split%x*}
    export OMP_NUM_THREADS=${split#*x}
    if [ "$ranks" = 1 ]; then run=("$SEGCAST_BIN"); else run=($SEGCAST_MPIRUN -np "$ranks" -x OMP_NUM_THREADS "$SEGCAST_BIN"); fi
    out="$tmp/out-$set-$split"
    "${run[@]}" ingest --set input.layout=marketplace --set input.path="$tmp/$set" --set run.out="$out" \
      > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
    echo "== $set, $ranks rank(s) x $OMP_NUM_THREADS thread(s)"
    check_manifest "$tmp/$set" "$out"
    if [ "$set" = clean ]; then
      /usr/bin/python3 "$SEGCAST_ROOT/tests/ref/market_ref.py" "$tmp/$set" "$out/store.h5" "$out/summary.json"
    fi
  done
done
