#!/usr/bin/env bash
# The sanitized segcast (SEGCAST_BIN, from the sanitize build) on a whole
# run: a generated marketplace data set (2,000 users, every optional file)
# through every stage at 2 ranks. Passes when the run exits 0 with no
# sanitizer report and every CSV and the model files are the same bytes as
# the normal build's (REFERENCE_BIN) on the same data: the sanitized program
# is the same program.
#   test_e2e.sh marketplace REFERENCE_BIN
set -euo pipefail
ref=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$ref" generate --layout marketplace --out "$W/data" --users 2000 --seed 5 > "$W/gen.log" 2>&1 || { cat "$W/gen.log"; fail "generate"; }
args=(--config "$SEGCAST_ROOT/configs/small.ini" --set input.path="$W/data" --set generate.users=0
  --set segment.k_max=4 --set segment.n_init=2 --set forecast.rounds=8 --set forecast.max_depth=4)
for who in san ref; do
  bin=$SEGCAST_BIN
  [ $who = ref ] && bin=$ref
  $SEGCAST_MPIRUN -np 2 "$bin" run "${args[@]}" --set run.out="$W/$who" > "$W/$who.log" 2>&1 ||
    { tail -40 "$W/$who.log"; fail "segcast run ($who, $bin)"; }
done
! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$W/san.log" || fail "a sanitizer report"
n=0
for f in "$W/ref"/*.csv "$W/ref"/*.json; do
  b=$(basename "$f")
  [ "$b" = summary.json ] && continue
  cmp -s "$f" "$W/san/$b" || fail "$b differs between the sanitized and the normal build"
  n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n files compared"
echo "PASS: sanitized run at 2 ranks, $n files identical to the normal build's"
