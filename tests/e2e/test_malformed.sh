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
#     against the case's COUNTS;
#   - whole-file error: a non-zero exit (not a timeout, not a signal), exactly
#     one stderr line from segcast, starting "segcast: error:" and matching
#     ERROR (which names the file), and no file left in the output folder.
# One more case is generated here rather than committed: a 10 MB quoted field
# full of commas, "" escapes and newlines that crosses the 1 MiB block
# boundaries where ranks split the file, and a 3 MB malformed record.
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
with open(out + "/case.conf", "w") as f:
    f.write("LAYOUT=online-retail\nINPUT=retail.csv\nLIMIT=1\nCOUNTS='retail.csv 6 4 2'\n")
EOF
}

run_case() {
  local name=$1 dir=$2
  local LAYOUT="" INPUT="" LIMIT="" ERROR="" COUNTS=""
  # shellcheck disable=SC1091
  source "$dir/case.conf"
  local out="$tmp/out/$name.$ranks"
  mkdir -p "$tmp/out"
  local args=(ingest --set "input.layout=$LAYOUT" --set "input.path=$dir/$INPUT" --set "run.out=$out")
  [ -n "$LIMIT" ] && args+=(--set "input.max_reject_fraction=$LIMIT")
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
    f, read, loaded, rejected = spec.split()
    got = files.get(f)
    if got is None:
        sys.exit("summary.json has no counts for %s (it has %s)" % (f, sorted(files)))
    if got["read"] != got["loaded"] + got["rejected"]:
        sys.exit("%s: read %d != loaded %d + rejected %d" % (f, got["read"], got["loaded"], got["rejected"]))
    want = (int(read), int(loaded), int(rejected))
    if (got["read"], got["loaded"], got["rejected"]) != want:
        sys.exit("%s: read/loaded/rejected %s, expected %s"
                 % (f, (got["read"], got["loaded"], got["rejected"]), want))
EOF
  ); then
    fail "$name" "summary.json: $why"
  fi
}

make_big_case
names=("$@")
if [ ${#names[@]} = 0 ]; then
  for d in "$corpus"/*/; do names+=("$(basename "$d")"); done
  names+=(big_field)
fi
for name in "${names[@]}"; do
  if [ "$name" = big_field ]; then run_case big_field "$tmp/big_field"; else run_case "$name" "$corpus/$name"; fi
done
if [ "$failures" != 0 ]; then
  echo "malformed corpus at $ranks rank(s) x $OMP_NUM_THREADS thread(s): $failures failure(s) in ${#names[@]} cases"
  exit 1
fi
echo "malformed corpus at $ranks rank(s) x $OMP_NUM_THREADS thread(s): ${#names[@]} cases ok"
