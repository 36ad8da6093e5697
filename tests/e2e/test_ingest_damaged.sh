#!/usr/bin/env bash
# A generated marketplace with a small share of its lines damaged the way
# real exports are (tests/e2e/damage_csv.py: stray quotes in numbers and in
# text, quotes opened mid-file, junk after a quote, wrong field counts, bad
# UTF-8, NUL, stray CR; well-formed two-line quoted text and 12" VINYL
# values in clicks.csv's platform), read at 1, 2 and 4 ranks and 1-3
# threads (issue 14). For every run:
#   - rejects.csv holds exactly the malformed rows that the sequential
#     reference reader (tests/ref/csvref.c, via csvref_clean) finds, with the
#     same lines and reasons (the later duplicate user_id rejects aside);
#   - summary.json's lines, blank, continuation_lines, read and rejected
#     per file equal the reference's counts;
#   - customer_segments.csv is byte-identical to the 1 rank x 1 thread run;
# and every customer's features equal the independent pandas computation
# (tests/ref/segment_ref.py) on the rows the reference accepts.
# Usage: test_ingest_damaged.sh CSVREF_CLEAN
set -euo pipefail
clean=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
py=/usr/bin/python3
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/d" --users 3000 --seed 11 > /dev/null
d="$tmp/d"
s=1
for f in users orders clicks delivery inventory; do
  col=""; [ "$f" = clicks ] && col=platform
  frac=0.005; [ "$f" = inventory ] && frac=0.0005
  $py "$SEGCAST_ROOT/tests/e2e/damage_csv.py" "$d/$f.csv" $((s++)) $frac $col
done
# the reference: the rows it accepts (for pandas), its rejects and counts
mkdir -p "$tmp/ref"
for f in users orders clicks delivery inventory network skus; do
  "$clean" "$f" "$d/$f.csv" "$tmp/ref/$f.csv" "$tmp/ref/$f.rejects" > "$tmp/ref/$f.json"
done
run() {
  local ranks=$1 threads=$2 out=$3
  local args=(ingest --set input.layout=marketplace --set input.path="$d" --set run.out="$out"
              --set input.max_reject_fraction=0.05)
  if [ "$ranks" = 1 ]; then OMP_NUM_THREADS=$threads "$SEGCAST_BIN" "${args[@]}"
  else $SEGCAST_MPIRUN -np "$ranks" -x OMP_NUM_THREADS="$threads" "$SEGCAST_BIN" "${args[@]}"; fi > "$out.log" 2>&1 ||
    { cat "$out.log"; exit 1; }
  args[0]=segment
  if [ "$ranks" = 1 ]; then OMP_NUM_THREADS=$threads "$SEGCAST_BIN" "${args[@]}" --set segment.k=4
  else $SEGCAST_MPIRUN -np "$ranks" -x OMP_NUM_THREADS="$threads" "$SEGCAST_BIN" "${args[@]}" --set segment.k=4; fi \
    > "$out.log" 2>&1 || { cat "$out.log"; exit 1; }
}
for rt in "1 1" "1 2" "1 3" "2 1" "2 2" "2 3" "4 1" "4 2" "4 3"; do
  set -- $rt
  out="$tmp/o$1x$2"
  run "$1" "$2" "$out"
  $py - "$out" "$tmp/ref" <<'PY'
import csv, json, sys
out, ref = sys.argv[1:3]
summ = json.load(open(out + "/summary.json"))["input"]["files"]
got = {}
with open(out + "/rejects.csv", newline="", encoding="utf-8", errors="surrogateescape") as fh:
    for row in csv.DictReader(fh):
        if not row["reason"].startswith("duplicate "):
            got.setdefault(row["file"], []).append((int(row["line"]), row["reason"]))
dups = {}
with open(out + "/rejects.csv", newline="", encoding="utf-8", errors="surrogateescape") as fh:
    for row in csv.DictReader(fh):
        if row["reason"].startswith("duplicate "):
            dups[row["file"]] = dups.get(row["file"], 0) + 1
bad = 0
for f in ("users", "orders", "clicks", "delivery", "inventory", "network", "skus"):
    name = f + ".csv"
    want = [(int(l.split("\t")[0]), l.split("\t")[1]) for l in open(f"{ref}/{f}.rejects", encoding="utf-8")]
    if got.get(name, []) != want:
        g = got.get(name, [])
        diff = [x for x in want if x not in g][:3] + [x for x in g if x not in want][:3]
        print(f"BAD {name}: rejects differ from the reference ({len(g)} against {len(want)}): {diff}")
        bad = 1
    c = json.loads(open(f"{ref}/{f}.json").read())
    s = summ[name]
    have = (s["lines"], s["blank"], s["read"], s["rejected"] - dups.get(name, 0), s["continuation_lines"])
    wantc = (c["lines"], c["blank"], c["read"], c["rejected"], c["continuation_lines"])
    if have != wantc:
        print(f"BAD {name}: lines/blank/read/rejected/continuation {have}, reference {wantc}")
        bad = 1
sys.exit(bad)
PY
  if [ "$out" != "$tmp/o1x1" ]; then
    cmp "$tmp/o1x1/customer_segments.csv" "$out/customer_segments.csv" ||
      { echo "customer_segments.csv differs at $1 rank(s) x $2 thread(s)"; exit 1; }
  fi
  echo "ok  $1 rank(s) x $2 thread(s): rejects and line counts as the reference's"
done
# the inch marks and the two-line texts were read, not rejected
$py - "$d/clicks.csv" "$tmp/ref/clicks.csv" <<'PY'
import sys
raw, kept = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
inch = raw.count(b'12" VINYL')
assert inch > 0 and kept.count(b'12"" VINYL') == inch, (inch, kept.count(b'12"" VINYL'))
two = raw.count(b"\nsecond line, with a comma")
assert two > 0 and kept.count(b"\nsecond line, with a comma") >= two - 2, two
print(f"ok  {inch} 12\" VINYL values and {two} two-line platform values in clicks.csv")
PY
$py "$SEGCAST_ROOT/tests/ref/segment_ref.py" marketplace "$tmp/ref" "$tmp/o1x1/customer_segments.csv"
echo "damaged marketplace: every customer's features as pandas computes them on the reference's rows"
