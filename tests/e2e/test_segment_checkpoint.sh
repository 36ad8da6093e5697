#!/usr/bin/env bash
# Checkpoint and restart of the segmentation sweep (issue 5 item 3) on a real
# `segcast segment` / `segcast run` over generated marketplace data.
#
# A stop at an exact step comes from the test-only SEGCAST_TEST_SIGNAL_AT=
# segment:<step>[:<rank>] (that rank raises SIGUSR1 just before the step's
# checkpoint_due; step = (k, seeding) pairs done) or segment:done (just
# before checkpoint_done). Every resumed run is compared with an
# uninterrupted run: each segmentation output file byte for byte (cmp), the
# segment tables of results.h5 value for value, and summary.json's segment
# block (less its timings). Checks:
#   1. SIGUSR1 on rank 1 of 2 at step 5: status 75, a checkpoint whose
#      content (read with h5py) is k = 2 done and k = 3 after 2 of 3
#      seedings; resumed at 1 rank and stopped again at step 13; resumed at
#      3 ranks: the 4 k's done are not refitted, identical outputs, the
#      checkpoint removed;
#   2. a stop in checkpoint_done (after the whole sweep): the resume at 1
#      rank refits nothing;
#   3. more than 65,536 customers (seedings on a k-means sample): a stop
#      after the last seeding of k = 3, before its full-data Lloyd, resumed
#      at 3 ranks;
#   4. `segcast run` (ingest, insights, segment, report) stopped at 2 ranks
#      and resumed at 1;
#   5. a checkpoint of another seed, and one of another data set with the
#      same configuration and the same customers (some prices halved), are
#      ignored with a line saying so and the result is that of an
#      uninterrupted run of the new setup;
#   6. timed checkpoints after every seeding change nothing;
#   7. a malformed SEGCAST_TEST_SIGNAL_AT stops the run with one line.
set -euo pipefail
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
py=/usr/bin/python3
export OMP_WAIT_POLICY=passive
tmp=$(mktemp -d /tmp/segcast-segck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
files="customer_segments.csv segment_profiles.csv rfm_segments.csv rfm_grid.csv model_selection.csv kmeans_model.json"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# seg NP OUT ARGS...: `segcast segment` under mpirun (bounded); prints the status.
seg() {
  local np=$1 out=$2 rc=0
  shift 2
  timeout 120 $MPIRUN -np "$np" "$SEGCAST_BIN" segment "$@" --set run.out="$out" >"$out.log" 2>&1 || rc=$?
  echo "$rc"
}

# same REF OUT: every segmentation output of OUT equals REF's.
same() {
  local f
  for f in $files; do cmp "$1/$f" "$2/$f" || fail "$f of $2 differs from the uninterrupted run"; done
  $py - "$1" "$2" <<'EOF' || fail "results.h5 or summary.json of $2 differs from the uninterrupted run"
import json, sys, h5py, numpy as np
a, b = sys.argv[1:3]
fa, fb = h5py.File(a + "/results.h5", "r"), h5py.File(b + "/results.h5", "r")
bad = []
def walk(name, obj):
    if isinstance(obj, h5py.Dataset):
        x, y = obj[()], fb[name][()]
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            bad.append(name)
fa["segment"].visititems(lambda n, o: walk("segment/" + n, o))
sa, sb = (json.load(open(p + "/summary.json"))["segment"] for p in (a, b))
sa.pop("seconds"); sb.pop("seconds")
if sa != sb:
    bad.append("summary.json segment")
if bad:
    sys.exit("differs: " + ", ".join(bad))
EOF
  [ ! -e "$2/checkpoint.h5" ] || fail "$2/checkpoint.h5 left behind by a finished run"
}

# ckpt FILE: "step current done.k" of the segment state, read with h5py.
ckpt() {
  $py - "$1" <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["format"] in (b"segcast-checkpoint", "segcast-checkpoint")
g = f["segment"]
blob, ends = bytes(g["names/bytes"][()]), [0] + [int(e) for e in g["names/ends"][()]]
names = [blob[ends[i]:ends[i + 1]].decode() for i in range(len(ends) - 1)]
def arr(name):
    i = names.index(name)
    return list(g["a%d" % i][()]) if ("a%d" % i) in g else []
print(int(g.attrs["step"]), ",".join(str(int(v)) for v in arr("current")) or "-",
      ",".join(str(int(v)) for v in arr("done.k")) or "-")
EOF
}

# stopped OUT STEP: status 75 was checked; the log and the files agree.
stopped() {
  grep -q "segcast: stopped by SIGUSR1 during segment after saving its state (step $2) to $1/checkpoint.h5" "$1.log" ||
    fail "no 'stopped ... (step $2)' line: $(tail -n 3 "$1.log")"
  [ -s "$1/checkpoint.h5" ] || fail "no checkpoint in $1"
  [ ! -e "$1/customer_segments.csv" ] || fail "a stopped run wrote customer_segments.csv"
}

fitted() { grep -c "  k = .* s)$" "$1.log" || true; }
restored() { grep -c "  k = .*from the checkpoint)$" "$1.log" || true; }

# small data: 5,000 users, k = 2..6 with 3 seedings each = 15 steps
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/data" --users 5000 --seed 3 >/dev/null
C="--set input.path=$tmp/data --set forecast.enabled=false --set segment.k_min=2 --set segment.k_max=6
   --set segment.n_init=3 --set segment.silhouette_sample=2000 --set run.checkpoint_seconds=0"
"$SEGCAST_BIN" ingest $C --set run.out="$tmp/st" >/dev/null
S="$C --set run.store=$tmp/st/store.h5"
[ "$(seg 2 "$tmp/ref" $S)" = 0 ] || fail "uninterrupted run failed: $(tail -n 3 "$tmp/ref.log")"
[ "$(fitted "$tmp/ref")" = 5 ] || fail "the uninterrupted run fitted $(fitted "$tmp/ref") k's, not 5"
echo "ok  uninterrupted run at 2 ranks"

# 1. stop at 2 ranks (rank 1 signalled), again at 1 rank, finish at 3 ranks
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:5:1 seg 2 "$tmp/a" $S)
[ "$rc" = 75 ] || fail "signalled run exited with $rc, not 75: $(tail -n 3 "$tmp/a.log")"
stopped "$tmp/a" 5
read -r step cur done <<<"$(ckpt "$tmp/a/checkpoint.h5")"
[ "$step" = 5 ] && [ "${cur%%,*}" = 3 ] && [ "$(cut -d, -f2 <<<"$cur")" = 2 ] && [ "$done" = 2 ] ||
  fail "checkpoint after step 5 holds step $step, current [$cur], done k's [$done]; want 5, [3,2,..], [2]"
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:13 seg 1 "$tmp/a" $S --set run.checkpoint_seconds=1e-9)
[ "$rc" = 75 ] || fail "resume at 1 rank exited with $rc, not 75: $(tail -n 3 "$tmp/a.log")"
grep -q "checkpoint: resuming segment after step 5 from" "$tmp/a.log" || fail "no 'resuming segment after step 5' line"
# saved after every seeding (checkpoint_seconds does not change the key):
# k = 3 goes on at its third seeding, not from its first
saves=$(sed -n 's/.*checkpoint: segment after step \([0-9]*\) saved to.*/\1/p' "$tmp/a.log" | tr '\n' ' ')
[ "$saves" = "6 7 8 9 10 11 12 13 " ] || fail "the resumed run saved after steps [$saves], not 6..13"
stopped "$tmp/a" 13
[ "$(restored "$tmp/a")" = 1 ] && [ "$(fitted "$tmp/a")" = 3 ] ||
  fail "resume from step 5 restored $(restored "$tmp/a") and fitted $(fitted "$tmp/a") k's, not 1 and 3"
read -r step cur done <<<"$(ckpt "$tmp/a/checkpoint.h5")"
[ "$step" = 13 ] && [ "${cur%%,*}" = 6 ] && [ "$(cut -d, -f2 <<<"$cur")" = 1 ] && [ "$done" = 2,3,4,5 ] ||
  fail "checkpoint after step 13 holds step $step, current [$cur], done k's [$done]"
rc=$(seg 3 "$tmp/a" $S)
[ "$rc" = 0 ] || fail "resume at 3 ranks exited with $rc: $(tail -n 3 "$tmp/a.log")"
grep -q "checkpoint: resuming segment after step 13 from" "$tmp/a.log" ||
  fail "no 'resuming segment after step 13' line"
[ "$(restored "$tmp/a")" = 4 ] && [ "$(fitted "$tmp/a")" = 1 ] ||
  fail "resume from step 13 restored $(restored "$tmp/a") and fitted $(fitted "$tmp/a") k's, not 4 and 1"
same "$tmp/ref" "$tmp/a"
echo "ok  stopped at 2 ranks (step 5) and 1 rank (step 13), finished at 3 ranks: identical outputs"

# 2. a stop after the whole sweep (in checkpoint_done)
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:done seg 2 "$tmp/b" $S)
[ "$rc" = 75 ] || fail "stop in checkpoint_done exited with $rc: $(tail -n 3 "$tmp/b.log")"
stopped "$tmp/b" 15
read -r step cur done <<<"$(ckpt "$tmp/b/checkpoint.h5")"
[ "$step $cur $done" = "15 - 2,3,4,5,6" ] || fail "final checkpoint holds '$step $cur $done'"
[ "$(seg 1 "$tmp/b" $S)" = 0 ] || fail "resume after the sweep failed: $(tail -n 3 "$tmp/b.log")"
[ "$(restored "$tmp/b")" = 5 ] && [ "$(fitted "$tmp/b")" = 0 ] || fail "the finished sweep was refitted"
same "$tmp/ref" "$tmp/b"
echo "ok  stopped after the sweep, resumed at 1 rank without refitting: identical outputs"

# 3. seedings on a k-means sample (> 65,536 customers): stop after the last
# seeding of k = 3 (step 4 of 6), before its Lloyd on the full data
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/big" --users 80000 --seed 5 >/dev/null
B="--set input.path=$tmp/big --set forecast.enabled=false --set segment.k_min=2 --set segment.k_max=4
   --set segment.n_init=2 --set segment.silhouette_sample=1000 --set run.checkpoint_seconds=0"
"$SEGCAST_BIN" ingest $B --set run.out="$tmp/bst" >/dev/null
B="$B --set run.store=$tmp/bst/store.h5"
[ "$(seg 2 "$tmp/bref" $B)" = 0 ] || fail "uninterrupted sampled run failed: $(tail -n 3 "$tmp/bref.log")"
grep -q '"kmeans_sample": 65536' "$tmp/bref/summary.json" || fail "expected seedings on the k-means sample"
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:4 seg 2 "$tmp/c" $B)
[ "$rc" = 75 ] || fail "sampled run exited with $rc: $(tail -n 3 "$tmp/c.log")"
stopped "$tmp/c" 4
read -r step cur done <<<"$(ckpt "$tmp/c/checkpoint.h5")"
[ "$step" = 4 ] && [ "$(cut -d, -f1,2 <<<"$cur")" = 3,2 ] && [ "$done" = 2 ] ||
  fail "sampled checkpoint holds step $step, current [$cur], done [$done]"
[ "$(seg 3 "$tmp/c" $B)" = 0 ] || fail "sampled resume at 3 ranks failed: $(tail -n 3 "$tmp/c.log")"
[ "$(restored "$tmp/c")" = 1 ] && [ "$(fitted "$tmp/c")" = 2 ] || fail "sampled resume refitted the wrong k's"
same "$tmp/bref" "$tmp/c"
rm -rf "$tmp/big" "$tmp/bst"
echo "ok  k-means sample: stopped before the full-data Lloyd at 2 ranks, resumed at 3: identical outputs"

# 4. the whole pipeline (`segcast run`, forecast off) stopped and resumed
# (clv off: it adds CLV columns to segment_profiles.csv and rfm_segments.csv,
# which the segment-only reference lacks; test_clv_checkpoint.sh resumes it)
rr() {
  local np=$1 out=$2 rc=0
  shift 2
  timeout 120 $MPIRUN -np "$np" "$SEGCAST_BIN" run $C --set clv.enabled=false --set run.out="$out" "$@" >"$out.log" 2>&1 || rc=$?
  echo "$rc"
}
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:8 rr 2 "$tmp/d")
[ "$rc" = 75 ] || fail "segcast run exited with $rc: $(tail -n 3 "$tmp/d.log")"
stopped "$tmp/d" 8
[ "$(rr 1 "$tmp/d")" = 0 ] || fail "segcast run resume failed: $(tail -n 3 "$tmp/d.log")"
grep -q "checkpoint: resuming segment after step 8 from" "$tmp/d.log" || fail "segcast run did not resume"
same "$tmp/ref" "$tmp/d"
echo "ok  segcast run stopped at 2 ranks, resumed at 1: identical segmentation outputs"

# 5. a checkpoint of another seed, or of another data set, is not used
[ "$(seg 1 "$tmp/ref7" $S --set run.seed=7)" = 0 ] || fail "seed-7 run failed"
cmp -s "$tmp/ref/model_selection.csv" "$tmp/ref7/model_selection.csv" && fail "seed 7 gives the seed-42 models"
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:5 seg 2 "$tmp/e" $S)
[ "$rc" = 75 ] || fail "seed-42 run exited with $rc"
[ "$(seg 2 "$tmp/e" $S --set run.seed=7)" = 0 ] || fail "seed-7 run over a seed-42 checkpoint failed"
grep -q "holds a segment state of another configuration or data set" "$tmp/e.log" ||
  fail "no line about the other seed's checkpoint: $(tail -n 3 "$tmp/e.log")"
[ "$(restored "$tmp/e")" = 0 ] && [ "$(fitted "$tmp/e")" = 5 ] || fail "a checkpoint of another seed was resumed from"
same "$tmp/ref7" "$tmp/e"
# another data set with the same customers: every 5th order line at half
# price (the user ids and the configuration are the same; only the data key's
# features differ)
mkdir "$tmp/data2"
for f in "$tmp"/data/*.csv; do [ "${f##*/}" = orders.csv ] || ln -s "$f" "$tmp/data2/"; done
awk -F, -v OFS=, 'NR > 1 && NR % 5 == 0 { $6 = sprintf("%.2f", $6 / 2); $7 = sprintf("%.2f", $7 / 2) } 1' \
  "$tmp/data/orders.csv" >"$tmp/data2/orders.csv"
"$SEGCAST_BIN" ingest $C --set input.path="$tmp/data2" --set run.out="$tmp/st2" >/dev/null
D2="$C --set input.path=$tmp/data2 --set run.store=$tmp/st2/store.h5"
[ "$(seg 1 "$tmp/ref2" $D2)" = 0 ] || fail "second data set run failed: $(tail -n 3 "$tmp/ref2.log")"
cut -d, -f1 "$tmp/ref/customer_segments.csv" | cmp -s - <(cut -d, -f1 "$tmp/ref2/customer_segments.csv") ||
  fail "the half-price data set does not have the same customers"
cmp -s "$tmp/ref/customer_segments.csv" "$tmp/ref2/customer_segments.csv" && fail "half prices changed no customer"
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:5 seg 2 "$tmp/f" $S)
[ "$rc" = 75 ] || fail "data-1 run exited with $rc"
[ "$(seg 2 "$tmp/f" $D2)" = 0 ] || fail "data-2 run over a data-1 checkpoint failed"
grep -q "holds a segment state of another configuration or data set" "$tmp/f.log" ||
  fail "no line about the other data set's checkpoint"
[ "$(restored "$tmp/f")" = 0 ] || fail "a checkpoint of another data set was resumed from"
same "$tmp/ref2" "$tmp/f"
echo "ok  checkpoints of another seed and of another data set are ignored; results as uninterrupted"

# 6. a save after every seeding changes nothing
[ "$(seg 2 "$tmp/g" $S --set run.checkpoint_seconds=1e-9)" = 0 ] || fail "timed run failed: $(tail -n 3 "$tmp/g.log")"
n=$(grep -c "checkpoint: segment after step [0-9]* saved to" "$tmp/g.log" || true)
[ "$n" = 15 ] || fail "$n timed saves, not one per seeding (15)"
same "$tmp/ref" "$tmp/g"
echo "ok  a save after each of the 15 seedings: identical outputs"

# 7. a malformed test variable: one clear line, status 2
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:x seg 2 "$tmp/h" $S)
[ "$rc" = 2 ] && grep -q "SEGCAST_TEST_SIGNAL_AT='segment:x' is not segment:<step>" "$tmp/h.log" ||
  fail "a malformed SEGCAST_TEST_SIGNAL_AT gave status $rc: $(tail -n 3 "$tmp/h.log")"
echo "ok  a malformed SEGCAST_TEST_SIGNAL_AT is refused"
echo "PASS"
