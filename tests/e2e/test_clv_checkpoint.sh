#!/usr/bin/env bash
# Checkpoint and restart of the lifetime-value fits (issue 16) on CDNOW.
#
# SEGCAST_TEST_SIGNAL_AT=clv:<step>[:<rank>] makes that rank raise SIGUSR1
# after the fits' <step>-th accepted step (BG/NBD's steps, then
# Gamma-Gamma's), clv:done after both. Every resumed run is compared with an
# uninterrupted one: clv.csv and the small CSVs byte for byte, results.h5's
# /clv value for value, summary.json's clv block (less timings: iterations
# and evaluations included). Checks:
#   1. a stop during BG/NBD at 2 ranks (rank 1 signalled): status 75, the
#      saved state (read with h5py) is BG/NBD in progress at that step;
#      resumed at 3 ranks: identical outputs, the checkpoint removed;
#   2. a stop during Gamma-Gamma at 1 rank, resumed at 4 ranks;
#   3. a stop after both fits, resumed at 2 ranks: nothing refitted;
#   4. segcast run stopped in clv at 2 ranks and resumed at 1: the
#      segmentation is not redone, the outputs are those of an
#      uninterrupted segcast run;
#   4b. above 50,000 customers (both fits start from a fit on a sample):
#      stops inside each sample fit, resumed at 3 and 4 ranks, identical to
#      an uninterrupted run at 1 rank;
#   5. a save after every step changes nothing;
#   6. a malformed SEGCAST_TEST_SIGNAL_AT is one clear line, status 2.
set -euo pipefail
source "$(dirname "$0")/test_clv_common.sh"
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
py=/usr/bin/python3
export OMP_WAIT_POLICY=passive
tmp=$(mktemp -d /tmp/segcast-clvck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
xz -dc "$SEGCAST_SHARED/data/cdnow_master.csv.xz" > "$tmp/cdnow.csv"
C="--set input.layout=transactions --set input.path=$tmp/cdnow.csv --set input.user=customer_id --set input.date=date
   --set input.quantity=number_of_cds --set input.amount=dollar_value --set forecast.enabled=false
   --set clv.holdout_days=273 --set run.checkpoint_seconds=0"
"$SEGCAST_BIN" ingest $C --set run.out="$tmp/st" > /dev/null
S="$C --set run.store=$tmp/st/store.h5"

# go CMD NP OUT ARGS...: a bounded run under mpirun; prints the status
go() {
  local cmd=$1 np=$2 out=$3 rc=0
  shift 3
  timeout 120 $MPIRUN -np "$np" "$SEGCAST_BIN" "$cmd" "$@" --set run.out="$out" > "$out.log" 2>&1 || rc=$?
  echo "$rc"
}
same() {
  clv_same "$1" "$2"
  [ ! -e "$2/checkpoint.h5" ] || fail "$2/checkpoint.h5 left behind by a finished run"
}
stopped() { # OUT STEP
  grep -q "segcast: stopped by SIGUSR1 during clv after saving its state (step $2) to $1/checkpoint.h5" "$1.log" ||
    fail "no 'stopped ... (step $2)' line: $(tail -n 3 "$1.log")"
  [ ! -e "$1/clv.csv" ] || fail "a stopped run wrote clv.csv"
}
# state FILE: "step phase fit1.status,steps fit3.status,steps" (fit1: BG/NBD
# on every customer, fit3: Gamma-Gamma; fit0, fit2: their sample starts)
state() {
  $py - "$1" "${2:-1}" "${3:-3}" <<'EOF'
import sys, h5py
g = h5py.File(sys.argv[1], "r")["clv"]
blob, ends = bytes(g["names/bytes"][()]), [0] + [int(e) for e in g["names/ends"][()]]
names = [blob[ends[i]:ends[i + 1]].decode() for i in range(len(ends) - 1)]
def arr(n):
    return [int(v) for v in g["a%d" % names.index(n)][()]]
a, b = arr("fit" + sys.argv[2]), arr("fit" + sys.argv[3])
print(int(g.attrs["step"]), arr("phase")[0], f"{a[0]},{a[2]}", f"{b[0]},{b[2]}")
EOF
}

[ "$(go clv 2 "$tmp/ref" $S)" = 0 ] || fail "uninterrupted run: $(tail -n 3 "$tmp/ref.log")"
read -r bg_steps gg_steps < <($py -c "import json; s = json.load(open('$tmp/ref/summary.json'))['clv']; print(s['bgnbd']['iterations'], s['gamma_gamma']['iterations'])")
[ "$bg_steps" -ge 4 ] && [ "$gg_steps" -ge 3 ] || fail "too few steps to stop inside the fits ($bg_steps, $gg_steps)"
echo "ok  uninterrupted: BG/NBD $bg_steps steps, Gamma-Gamma $gg_steps"

# 1. during BG/NBD, rank 1 of 2; resumed at 3 ranks
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:3:1 go clv 2 "$tmp/a" $S)
[ "$rc" = 75 ] || fail "signalled run exited with $rc, not 75: $(tail -n 3 "$tmp/a.log")"
stopped "$tmp/a" 3
[ "$(state "$tmp/a/checkpoint.h5")" = "3 1 0,3 0,0" ] || fail "state after step 3: $(state "$tmp/a/checkpoint.h5")"
[ "$(go clv 3 "$tmp/a" $S)" = 0 ] || fail "resume at 3 ranks: $(tail -n 3 "$tmp/a.log")"
grep -q "checkpoint: resuming clv after step 3 from" "$tmp/a.log" || fail "no 'resuming clv after step 3' line"
same "$tmp/ref" "$tmp/a"
echo "ok  stopped in BG/NBD at 2 ranks, resumed at 3: identical outputs"

# 2. during Gamma-Gamma at 1 rank; resumed at 4 ranks
k=$((bg_steps + 2))
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:$k go clv 1 "$tmp/b" $S)
[ "$rc" = 75 ] || fail "signalled run exited with $rc: $(tail -n 3 "$tmp/b.log")"
stopped "$tmp/b" "$k"
[ "$(state "$tmp/b/checkpoint.h5")" = "$k 3 1,$bg_steps 0,2" ] || fail "state after step $k: $(state "$tmp/b/checkpoint.h5")"
[ "$(go clv 4 "$tmp/b" $S)" = 0 ] || fail "resume at 4 ranks: $(tail -n 3 "$tmp/b.log")"
same "$tmp/ref" "$tmp/b"
echo "ok  stopped in Gamma-Gamma at 1 rank, resumed at 4: identical outputs"

# 3. after both fits; nothing refitted on resume
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:done go clv 2 "$tmp/c" $S)
[ "$rc" = 75 ] || fail "stop after the fits exited with $rc: $(tail -n 3 "$tmp/c.log")"
stopped "$tmp/c" $((bg_steps + gg_steps))
[ "$(go clv 2 "$tmp/c" $S)" = 0 ] || fail "resume after the fits: $(tail -n 3 "$tmp/c.log")"
! grep -q "checkpoint: clv after step" "$tmp/c.log" || fail "the resumed run fitted again"
same "$tmp/ref" "$tmp/c"
echo "ok  stopped after the fits, resumed without fitting: identical outputs"

# 4. segcast run (ingest, insights, segment, clv, report)
R="$C --set segment.k_max=4 --set segment.n_init=2"
[ "$(go run 2 "$tmp/rref" $R)" = 0 ] || fail "uninterrupted segcast run: $(tail -n 3 "$tmp/rref.log")"
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:2 go run 2 "$tmp/d" $R)
[ "$rc" = 75 ] || fail "segcast run exited with $rc: $(tail -n 3 "$tmp/d.log")"
[ "$(go run 1 "$tmp/d" $R)" = 0 ] || fail "segcast run resume: $(tail -n 3 "$tmp/d.log")"
grep -q "checkpoint: resuming segment after step" "$tmp/d.log" && grep -q "checkpoint: resuming clv after step 2" "$tmp/d.log" ||
  fail "segcast run did not resume both stages: $(grep checkpoint "$tmp/d.log")"
same "$tmp/rref" "$tmp/d"
for f in segment_profiles.csv rfm_segments.csv customer_segments.csv; do cmp "$tmp/rref/$f" "$tmp/d/$f" || fail "$f differs"; done
echo "ok  segcast run stopped in clv at 2 ranks, resumed at 1: identical outputs, segmentation not redone"

# 4b. more than 50,000 customers: both fits start from a fit on a sample
# (sub-fits 0 and 2); stops inside each sample fit, resumed elsewhere
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/gen" --users 110000 --seed 5 > /dev/null
G="--set input.path=$tmp/gen --set forecast.enabled=false --set run.checkpoint_seconds=0"
$MPIRUN -np 2 "$SEGCAST_BIN" ingest $G --set run.out="$tmp/gst" > /dev/null
G="$G --set run.store=$tmp/gst/store.h5"
[ "$(go clv 1 "$tmp/gref" $G)" = 0 ] || fail "uninterrupted warm-start run: $(tail -n 3 "$tmp/gref.log")"
read -r w0 w1 w2 < <($py -c "
import json; s = json.load(open('$tmp/gref/summary.json'))['clv']
assert s['bgnbd']['sample_start']['status'] == 'converged' and s['gamma_gamma']['sample_start']['status'] == 'converged', s
print(s['bgnbd']['sample_start']['iterations'], s['bgnbd']['iterations'], s['gamma_gamma']['sample_start']['iterations'])")
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:2 go clv 2 "$tmp/g1" $G)
[ "$rc" = 75 ] || fail "stop in the BG/NBD sample fit exited with $rc: $(tail -n 3 "$tmp/g1.log")"
[ "$(state "$tmp/g1/checkpoint.h5" 0 1)" = "2 0 0,2 0,0" ] || fail "state in the sample fit: $(state "$tmp/g1/checkpoint.h5" 0 1)"
[ "$(go clv 3 "$tmp/g1" $G)" = 0 ] || fail "resume at 3 ranks: $(tail -n 3 "$tmp/g1.log")"
same "$tmp/gref" "$tmp/g1"
k=$((w0 + w1 + 1))
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:$k:1 go clv 2 "$tmp/g2" $G)
[ "$rc" = 75 ] || fail "stop in the Gamma-Gamma sample fit exited with $rc: $(tail -n 3 "$tmp/g2.log")"
[ "$(state "$tmp/g2/checkpoint.h5" 2 3)" = "$k 2 0,1 0,0" ] || fail "state in the Gamma-Gamma sample fit: $(state "$tmp/g2/checkpoint.h5" 2 3)"
[ "$(go clv 4 "$tmp/g2" $G)" = 0 ] || fail "resume at 4 ranks: $(tail -n 3 "$tmp/g2.log")"
same "$tmp/gref" "$tmp/g2"
rm -rf "$tmp/gen" "$tmp/gst"
echo "ok  sample starts (BG/NBD $w0 + $w1 steps, Gamma-Gamma $w2 + ...): stopped in each, resumed at 3 and 4 ranks: identical to 1 rank"

# 5. a save after every step
[ "$(go clv 2 "$tmp/e" $S --set run.checkpoint_seconds=1e-9)" = 0 ] || fail "timed run: $(tail -n 3 "$tmp/e.log")"
n=$(grep -c "checkpoint: clv after step [0-9]* saved to" "$tmp/e.log" || true)
[ "$n" = $((bg_steps + gg_steps)) ] || fail "$n timed saves, not one per step ($((bg_steps + gg_steps)))"
same "$tmp/ref" "$tmp/e"
echo "ok  a save after each of the $n steps: identical outputs"

# 6. a malformed test variable
rc=$(SEGCAST_TEST_SIGNAL_AT=clv:x go clv 2 "$tmp/f" $S)
[ "$rc" = 2 ] && grep -q "SEGCAST_TEST_SIGNAL_AT='clv:x' is not clv:<step>" "$tmp/f.log" ||
  fail "a malformed SEGCAST_TEST_SIGNAL_AT gave status $rc: $(tail -n 3 "$tmp/f.log")"
echo "ok  a malformed SEGCAST_TEST_SIGNAL_AT is refused"
echo "PASS"
