#!/usr/bin/env bash
# Checkpoint and restart of boosting (issue 5 item 3) on a real
# `segcast forecast` over generated data (3,000 users, 20 rounds, row and
# feature subsampling, validation tracked for early stopping).
#
# A stop at an exact round comes from the test-only SEGCAST_TEST_SIGNAL_AT=
# forecast:<round>[:<rank>] (that rank raises SIGUSR1 just before the
# checkpoint_due after that round) or forecast:done (just before
# checkpoint_done). Every resumed run is compared byte for byte (cmp) with an
# uninterrupted run: gbdt_model.json, forecast.csv, feature_importance.csv.
# Checks:
#   1. SIGUSR1 on rank 1 of 2 after round 7: status 75, the "stopped" line,
#      no forecast output, a checkpoint whose forecast state (read with h5py)
#      is step 7 with 7 trees; resumed at 1 rank and, from a copy, at 3
#      ranks: both say they resumed after 7 rounds, both equal the
#      uninterrupted run, and the checkpoint is removed;
#   2. a stop in checkpoint_done (boosting finished): resumed at 1 rank it
#      boosts no round and equals the uninterrupted run;
#   3. the round-7 checkpoint under another eta is ignored with a line
#      saying so, and the result is that of an uninterrupted run with that
#      eta;
#   4. a malformed SEGCAST_TEST_SIGNAL_AT stops the run with one line;
#   5. Poisson with early stopping that ends boosting at round 12 (10 trees
#      kept): stopped after round 3 and resumed at 1 rank (the early-stopping
#      record carries over: it stops at the same round), and stopped in
#      checkpoint_done and resumed at 3 ranks (no round boosted): both equal
#      the uninterrupted run.
set -euo pipefail
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
py=/usr/bin/python3
export OMP_WAIT_POLICY=passive
tmp=$(mktemp -d /tmp/segcast-fcck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
files="gbdt_model.json forecast.csv feature_importance.csv"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# fc NP OUT ARGS...: `segcast forecast` under mpirun (bounded); prints the status.
fc() {
  local np=$1 out=$2 rc=0
  shift 2
  timeout 120 $MPIRUN -np "$np" "$SEGCAST_BIN" forecast "$@" --set run.out="$out" >"$out.log" 2>&1 || rc=$?
  echo "$rc"
}

# same REF OUT: every forecast output of OUT equals REF's; no checkpoint left.
same() {
  local f
  for f in $files; do cmp "$1/$f" "$2/$f" || fail "$f of $2 differs from the uninterrupted run"; done
  [ ! -e "$2/checkpoint.h5" ] || fail "$2/checkpoint.h5 left behind by a finished run"
}

# stopped OUT STEP: status 75 was checked; the log and the files agree.
stopped() {
  grep -q "segcast: stopped by SIGUSR1 during forecast after saving its state (step $2) to $1/checkpoint.h5" "$1.log" ||
    fail "no 'stopped ... (step $2)' line: $(tail -n 3 "$1.log")"
  [ -s "$1/checkpoint.h5" ] || fail "no checkpoint in $1"
  [ ! -e "$1/forecast.csv" ] || fail "a stopped run wrote forecast.csv"
}

# ckpt FILE: "step trees progress" of the forecast state, read with h5py.
ckpt() {
  $py - "$1" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
g = f["forecast"]
blob, ends = bytes(g["names/bytes"][()]), [0] + [int(e) for e in g["names/ends"][()]]
names = [blob[ends[i]:ends[i + 1]].decode() for i in range(len(ends) - 1)]
def arr(name):
    i = names.index(name)
    return list(g["a%d" % i][()]) if ("a%d" % i) in g else []
print(int(g.attrs["step"]), len(arr("trees.offsets")) - 1, ",".join(str(int(v)) for v in arr("progress")))
PY
}

resumed() { grep -c "forecast: resumed from the checkpoint after $2 rounds" "$1.log" || true; }

"$SEGCAST_BIN" generate --out "$tmp/data" --users 3000 --seed 3 >/dev/null
C="--set input.path=$tmp/data --set run.checkpoint_seconds=0"
"$SEGCAST_BIN" ingest $C --set run.out="$tmp/st" >/dev/null
S="$C --set run.store=$tmp/st/store.h5 --set forecast.rounds=20 --set forecast.subsample=0.8
   --set forecast.colsample=0.8 --set forecast.early_stopping_rounds=15"
[ "$(fc 2 "$tmp/ref" $S)" = 0 ] || fail "uninterrupted run failed: $(tail -n 3 "$tmp/ref.log")"
grep -q "forecast: 20 trees (20 rounds)" "$tmp/ref.log" || fail "the uninterrupted run did not boost 20 rounds"
echo "ok  uninterrupted run at 2 ranks"

# 1. stop after round 7 at 2 ranks (rank 1 signalled), resume at 1 and at 3 ranks
rc=$(SEGCAST_TEST_SIGNAL_AT=forecast:7:1 fc 2 "$tmp/a" $S)
[ "$rc" = 75 ] || fail "signalled run exited with $rc, not 75: $(tail -n 3 "$tmp/a.log")"
stopped "$tmp/a" 7
read -r step trees prog <<<"$(ckpt "$tmp/a/checkpoint.h5")"
[ "$step" = 7 ] && [ "$trees" = 7 ] && [ "${prog%%,*}" = 7 ] ||
  fail "checkpoint after round 7 holds step $step, $trees trees, progress [$prog]"
mkdir "$tmp/b" && cp "$tmp/a/checkpoint.h5" "$tmp/b/" && cp "$tmp/a/checkpoint.h5" "$tmp/stale.h5"
rc=$(fc 1 "$tmp/a" $S)
[ "$rc" = 0 ] || fail "resume at 1 rank exited with $rc: $(tail -n 3 "$tmp/a.log")"
[ "$(resumed "$tmp/a" 7)" = 1 ] || fail "the 1-rank run did not resume after 7 rounds"
same "$tmp/ref" "$tmp/a"
rc=$(fc 3 "$tmp/b" $S)
[ "$rc" = 0 ] || fail "resume at 3 ranks exited with $rc: $(tail -n 3 "$tmp/b.log")"
[ "$(resumed "$tmp/b" 7)" = 1 ] || fail "the 3-rank run did not resume after 7 rounds"
same "$tmp/ref" "$tmp/b"
echo "ok  stopped after round 7 at 2 ranks (status 75); resumed at 1 and at 3 ranks: identical outputs"

# 2. a stop in checkpoint_done: the resume boosts nothing
rc=$(SEGCAST_TEST_SIGNAL_AT=forecast:done fc 2 "$tmp/c" $S)
[ "$rc" = 75 ] || fail "run signalled at the end of boosting exited with $rc: $(tail -n 3 "$tmp/c.log")"
stopped "$tmp/c" 20
rc=$(fc 1 "$tmp/c" $S)
[ "$rc" = 0 ] || fail "resume of finished boosting exited with $rc: $(tail -n 3 "$tmp/c.log")"
grep -q "resumed from the checkpoint after 20 rounds (boosting was finished)" "$tmp/c.log" ||
  fail "the resume of a finished boosting did not say so"
! grep -q "forecast: boosting: done" "$tmp/c.log" || fail "the resume of a finished boosting boosted again"
same "$tmp/ref" "$tmp/c"
echo "ok  stopped after boosting; resumed without boosting again: identical outputs"

# 3. the round-7 checkpoint is stale under another eta
E="$S --set forecast.eta=0.2"
[ "$(fc 1 "$tmp/eref" $E)" = 0 ] || fail "uninterrupted eta=0.2 run failed: $(tail -n 3 "$tmp/eref.log")"
mkdir "$tmp/e" && cp "$tmp/stale.h5" "$tmp/e/checkpoint.h5"
rc=$(fc 2 "$tmp/e" $E)
[ "$rc" = 0 ] || fail "run over a stale checkpoint exited with $rc: $(tail -n 3 "$tmp/e.log")"
grep -q "holds a forecast state of another configuration or data set; starting forecast from the beginning" \
  "$tmp/e.log" || fail "no line about the stale checkpoint: $(tail -n 3 "$tmp/e.log")"
[ "$(resumed "$tmp/e" 7)" = 0 ] || fail "a checkpoint of another eta was resumed from"
same "$tmp/eref" "$tmp/e"
cmp -s "$tmp/ref/forecast.csv" "$tmp/e/forecast.csv" && fail "eta=0.2 gave the same forecast as eta=0.1"
echo "ok  a checkpoint of another eta is ignored; result as uninterrupted"

# 4. a malformed test variable: one clear line, status 2
rc=$(SEGCAST_TEST_SIGNAL_AT=forecast:x fc 1 "$tmp/h" $S)
[ "$rc" = 2 ] && grep -q "SEGCAST_TEST_SIGNAL_AT='forecast:x' is not forecast:<round>" "$tmp/h.log" ||
  fail "a malformed SEGCAST_TEST_SIGNAL_AT gave status $rc: $(tail -n 3 "$tmp/h.log")"
echo "ok  a malformed SEGCAST_TEST_SIGNAL_AT is refused"

# 5. Poisson, early stopping ends boosting before forecast.rounds
P="$C --set run.store=$tmp/st/store.h5 --set forecast.rounds=60 --set forecast.objective=poisson
   --set forecast.early_stopping_rounds=2 --set forecast.eta=0.5 --set forecast.subsample=0.7"
[ "$(fc 2 "$tmp/pref" $P)" = 0 ] || fail "uninterrupted Poisson run failed: $(tail -n 3 "$tmp/pref.log")"
line=$(grep -o "forecast: [0-9]* trees ([0-9]* rounds)" "$tmp/pref.log")
[ "$line" != "forecast: 60 trees (60 rounds)" ] || fail "early stopping did not end the Poisson run early"
rc=$(SEGCAST_TEST_SIGNAL_AT=forecast:3:1 fc 2 "$tmp/p1" $P)
[ "$rc" = 75 ] || fail "signalled Poisson run exited with $rc: $(tail -n 3 "$tmp/p1.log")"
stopped "$tmp/p1" 3
[ "$(fc 1 "$tmp/p1" $P)" = 0 ] || fail "Poisson resume at 1 rank failed: $(tail -n 3 "$tmp/p1.log")"
[ "$(resumed "$tmp/p1" 3)" = 1 ] && grep -q "$line" "$tmp/p1.log" ||
  fail "the Poisson resume did not resume after 3 rounds and end as '$line'"
same "$tmp/pref" "$tmp/p1"
rc=$(SEGCAST_TEST_SIGNAL_AT=forecast:done fc 2 "$tmp/p2" $P)
[ "$rc" = 75 ] || fail "Poisson run signalled at the end exited with $rc: $(tail -n 3 "$tmp/p2.log")"
[ "$(fc 3 "$tmp/p2" $P)" = 0 ] || fail "Poisson resume at 3 ranks failed: $(tail -n 3 "$tmp/p2.log")"
grep -q "(boosting was finished)" "$tmp/p2.log" || fail "the finished Poisson boosting was not resumed as finished"
! grep -q "forecast: boosting: done" "$tmp/p2.log" || fail "the resume of a finished boosting boosted again"
same "$tmp/pref" "$tmp/p2"
echo "ok  Poisson with early stopping ($line): stopped at round 3 and after boosting, resumed: identical outputs"
