#!/usr/bin/env bash
# test_malformed.sh: ingest of the malformed-input corpus (tests/data/malformed/).
#
# Every case folder there holds its input, a case.conf and either the exact
# expected rejects.csv or, for a whole-file error, an ERROR pattern. For each
# case this runs `segcast ingest` (no config file: every key has a default)
# at RANKS ranks of THREADS OpenMP threads, each run under `timeout 60` so that a hang fails instead of
# blocking, and checks:
#   - rows expected: exit status 0, rejects.csv byte for byte, and
#     summary.json's per-file read/loaded/rejected (read = loaded + rejected)
#     and lines/blank/continuation_lines (lines = 1 + blank + read +
#     continuation_lines, DATA.md 7) against the case's COUNTS;
#   - whole-file error: a non-zero exit (not a timeout, not a signal), exactly
#     one stderr line from segcast, starting "segcast: error:" and matching
#     ERROR (which names the file), and no file left in the output folder.
# Two more cases are generated here rather than committed: a 10 MB quoted
# field of 117,648 lines full of commas, "" escapes and newlines that crosses
# the 1 MiB block boundaries where ranks split the file, and a 3 MB malformed
# record, read with input.max_record_lines = 200000 (big_field); and the same
# file at the default limit of 10,000 lines (big_field_limit), where the big
# field is a record too long: its first line is rejected and every line of
# it after is read as a row of its own (and rejected, for its field count).
# The corpus and its expectations are written by make_corpus.py (by hand
# from DATA.md 2 and 7; see its header).
# Usage: test_malformed.sh RANKS [THREADS [CASE...]]
set -uo pipefail
ranks=${1:-1}
export OMP_NUM_THREADS=${2:-1}
shift 2 || shift || true
corpus="$SEGCAST_ROOT/tests/data/malformed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL [$1, $ranks rank(s) x $OMP_NUM_THREADS thread(s)]: $2"
  failures=$((failures + 1))
}

# The multi-megabyte case, with its expectations, into $tmp/big_field.
make_big_case() {
  mkdir -p "$tmp/big_field"
  /usr/bin/python3 - "$corpus" "$tmp/big_field" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from make_corpus import HEADER, row, rejects
out = sys.argv[2]
chunks = []
k = 0
size = 0
while size < 10_000_000:
    c = b'PART %07d, WITH ""QUOTES"", COMMAS, AND \xc3\xa9 UTF-8 TEXT ...........................' % k
    chunks.append(c)
    size += len(c) + 1
    k += 1
big = b'"' + b"\n".join(chunks) + b'"'
newlines = big.count(b"\n")
huge = b"X" * 3_000_000
recs = [row(), row(desc=big), row(qty=b"x"), row(code=b"71053"), row(desc=huge, qty=b"y"), row(code=b"84406B")]
with open(out + "/retail.csv", "wb") as f:
    f.write(HEADER + b"\n" + b"\n".join(recs) + b"\n")
bad1 = 3 + newlines + 1          # the row after the 10 MB record
bad2 = bad1 + 2
with open(out + "/expected_rejects.csv", "wb") as f:
    f.write(rejects([("retail.csv", bad1, "bad integer in Quantity", recs[2]),
                     ("retail.csv", bad2, "bad integer in Quantity", recs[4])]))
lines = 1 + len(recs) + newlines
with open(out + "/case.conf", "w") as f:
    f.write("LAYOUT=online-retail\nINPUT=retail.csv\nLIMIT=1\nSETS='input.max_record_lines=200000'\n"
            "COUNTS='retail.csv 6 4 2 %d 0 %d'\n" % (lines, newlines))
# the same file at the default limit of 10,000 lines: line 3 opens a field
# too long, and each later line of it is a row of its own: 4 fields (its
# quotes are ordinary bytes) except the last, which ends the quoted field
# and has the record's other fields after it
import os, shutil
lim = out + "_limit"
os.makedirs(lim, exist_ok=True)
shutil.copy(out + "/retail.csv", lim + "/retail.csv")
phys = (HEADER + b"\n" + b"\n".join(recs) + b"\n").split(b"\n")[:-1]
ents = [("retail.csv", 3, "record longer than 10000 lines (input.max_record_lines)", phys[2])]
for ln in range(4, 3 + newlines + 1):
    text = phys[ln - 1]
    if ln < 3 + newlines:
        ents.append(("retail.csv", ln, "wrong field count (%d, header has 8)" % (text.count(b",") + 1), text))
    else:
        ents.append(("retail.csv", ln, "wrong field count (%d, header has 8)" % (text.count(b",") + 1), text))
ents.append(("retail.csv", bad1, "bad integer in Quantity", recs[2]))
ents.append(("retail.csv", bad2, "bad integer in Quantity", recs[4]))
read = 1 + 1 + newlines + 4
with open(lim + "/expected_rejects.csv", "wb") as f:
    f.write(rejects(ents))
with open(lim + "/case.conf", "w") as f:
    f.write("LAYOUT=online-retail\nINPUT=retail.csv\nLIMIT=1\nCOUNTS='retail.csv %d %d %d %d 0 0'\n"
            % (read, read - len(ents), len(ents), lines))
EOF
}

run_case() {
  local name=$1 dir=$2
  local LAYOUT="" INPUT="" LIMIT="" ERROR="" COUNTS="" SETS=""
  # shellcheck disable=SC1091
  source "$dir/case.conf"
  local out="$tmp/out/$name.$ranks"
  mkdir -p "$tmp/out"
  local args=(ingest --set "input.layout=$LAYOUT" --set "input.path=$dir/$INPUT" --set "run.out=$out")
  [ -n "$LIMIT" ] && args+=(--set "input.max_reject_fraction=$LIMIT")
  for kv in $SETS; do args+=(--set "$kv"); done
  local rc=0
  if [ "$ranks" = 1 ]; then
    timeout 60 "$SEGCAST_BIN" "${args[@]}" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
  else
    # shellcheck disable=SC2086
    timeout 60 $SEGCAST_MPIRUN -np "$ranks" "$SEGCAST_BIN" "${args[@]}" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
  fi
  if [ "$rc" = 124 ]; then
    fail "$name" "did not finish within 60 s"
    return
  fi
  if [ "$rc" -ge 128 ] || grep -qiE 'signal [0-9]+|segmentation fault|core dumped|aborted \(|AddressSanitizer' "$tmp/stderr"; then
    fail "$name" "crashed (exit $rc): $(head -c 600 "$tmp/stderr")"
    return
  fi
  if [ -n "$ERROR" ]; then
    if [ "$rc" = 0 ]; then
      fail "$name" "expected a whole-file error, got exit 0"
      return
    fi
    local lines
    # mpirun adds its own lines about the failed job: count segcast's only
    lines=$(grep -c '^segcast' "$tmp/stderr")
    if [ "$ranks" = 1 ]; then lines=$(wc -l < "$tmp/stderr"); fi
    local msg
    msg=$(grep -m1 '^segcast' "$tmp/stderr")
    if [ "$lines" != 1 ]; then
      fail "$name" "expected one error line on stderr, got $lines: $(head -c 600 "$tmp/stderr")"
    elif ! [[ "$msg" =~ ^segcast:\ error:\  ]] || ! grep -qE "$ERROR" <<< "$msg"; then
      fail "$name" "error line '$msg' does not match 'segcast: error: .*$ERROR'"
    fi
    if [ -d "$out" ] && [ -n "$(find "$out" -mindepth 1 -print -quit)" ]; then
      fail "$name" "output left behind after the error: $(cd "$out" && find . -mindepth 1 | tr '\n' ' ')"
    fi
    return
  fi
  if [ "$rc" != 0 ]; then
    fail "$name" "exit $rc: $(head -c 600 "$tmp/stderr")"
    return
  fi
  if ! cmp -s "$out/rejects.csv" "$dir/expected_rejects.csv"; then
    fail "$name" "rejects.csv differs from expected_rejects.csv:"
    diff <(head -c 4000 "$dir/expected_rejects.csv") <(head -c 4000 "$out/rejects.csv") | head -20 | cut -c1-300
  fi
  local why
  if ! why=$(/usr/bin/python3 - "$out/summary.json" "$COUNTS" 2>&1 <<'EOF'
import json, sys
files = json.load(open(sys.argv[1]))["input"]["files"]
for spec in sys.argv[2].split(";"):
    f, *want = spec.split()
    got = files.get(f)
    if got is None:
        sys.exit("summary.json has no counts for %s (it has %s)" % (f, sorted(files)))
    if got["read"] != got["loaded"] + got["rejected"]:
        sys.exit("%s: read %d != loaded %d + rejected %d" % (f, got["read"], got["loaded"], got["rejected"]))
    if got["lines"] != 1 + got["blank"] + got["read"] + got["continuation_lines"]:
        sys.exit("%s: lines %d != 1 + blank %d + read %d + continuation_lines %d"
                 % (f, got["lines"], got["blank"], got["read"], got["continuation_lines"]))
    keys = ("read", "loaded", "rejected", "lines", "blank", "continuation_lines")
    have = tuple(got[k] for k in keys)
    if have != tuple(int(w) for w in want):
        sys.exit("%s: %s %s, expected %s" % (f, "/".join(keys), have, tuple(int(w) for w in want)))
EOF
  ); then
    fail "$name" "summary.json: $why"
  fi
}

make_big_case
names=("$@")
if [ ${#names[@]} = 0 ]; then
  for d in "$corpus"/*/; do names+=("$(basename "$d")"); done
  names+=(big_field big_field_limit)
fi
for name in "${names[@]}"; do
  case "$name" in
    big_field*) run_case "$name" "$tmp/$name" ;;
    *) run_case "$name" "$corpus/$name" ;;
  esac
done
if [ "$failures" != 0 ]; then
  echo "malformed corpus at $ranks rank(s) x $OMP_NUM_THREADS thread(s): $failures failure(s) in ${#names[@]} cases"
  exit 1
fi
echo "malformed corpus at $ranks rank(s) x $OMP_NUM_THREADS thread(s): ${#names[@]} cases ok"
