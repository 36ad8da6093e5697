#!/usr/bin/env bash
# Checkpoint and restart under mpirun (checkpoint_driver: a two-stage
# distributed training loop using src/checkpoint.h as the stages do).
#
# Checks, against an uninterrupted 1-rank run as the reference:
#  - a SIGUSR1 sent to ONE rank of 2 during stage 1 stops every rank with
#    status 75 after saving; resuming at 4 ranks computes only the steps left
#    and ends with byte-identical results; the checkpoint is removed after;
#  - SIGTERM to every rank of 4 during stage 2: resuming at 1 rank does not
#    redo stage 1 at all, and the results are identical;
#  - timed checkpoints (run.checkpoint_seconds) do not change the results;
#  - a checkpoint of another configuration is ignored (with a line saying
#    so), the run starts over and gives the reference results;
#  - a damaged checkpoint file stops the run with one clear error (status 6);
#  - a state that differs between ranks is refused (status 7).
set -euo pipefail
DRIVER=${SEGCAST_CHECKPOINT_DRIVER:?set by tests/checkpoint.cmake}
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
work=$(mktemp -d /tmp/segcast-ckpt.XXXXXX)
trap 'rm -rf "$work"' EXIT
STEPS=40

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# run NP OUTDIR ARGS...: the driver under mpirun, bounded; prints the status.
run() {
  local np=$1 out=$2
  shift 2
  local rc=0
  timeout 120 $MPIRUN -np "$np" "$DRIVER" "$out" "$STEPS" "$@" >"$out.log" 2>&1 || rc=$?
  echo "$rc"
}

# signal_when NP OUTDIR PATTERN SIGNAL RANKS ARGS...: starts the driver,
# waits for PATTERN in its output, signals the given ranks, returns status.
signal_when() {
  local np=$1 out=$2 pattern=$3 sig=$4 ranks=$5
  shift 5
  timeout 120 $MPIRUN -np "$np" "$DRIVER" "$out" "$STEPS" --sleep 40 "$@" >"$out.log" 2>&1 &
  local pid=$! i r rc=0
  for i in $(seq 1 600); do
    grep -q "^$pattern\$" "$out.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  grep -q "^$pattern\$" "$out.log" || fail "the driver never printed '$pattern': $(tail -n 5 "$out.log")"
  for r in $ranks; do kill "-$sig" "$(cat "$out/pid.$r")"; done
  wait "$pid" || rc=$?
  echo "$rc"
}

computed() { sed -n 's/^computed fit \([0-9]*\) boost \([0-9]*\)$/\1 \2/p' "$1.log"; }

# reference, and the same at 4 ranks (the toy is rank-count independent)
[ "$(run 1 "$work/ref" --sleep 0)" = 0 ] || fail "reference run failed: $(tail -n 5 "$work/ref.log")"
[ "$(run 4 "$work/ref4" --sleep 0)" = 0 ] || fail "4-rank run failed"
cmp -s "$work/ref/result.txt" "$work/ref4/result.txt" || fail "uninterrupted results differ between 1 and 4 ranks"
[ ! -e "$work/ref/checkpoint.h5" ] || fail "a finished run left its checkpoint behind"
echo "ok: uninterrupted runs agree at 1 and 4 ranks"

# 1. SIGUSR1 to rank 1 of 2 during stage 1, resume at 4 ranks
rc=$(signal_when 2 "$work/a" "fit step 10" USR1 "1")
[ "$rc" = 75 ] || fail "signalled run exited with $rc, not 75: $(tail -n 5 "$work/a.log")"
[ -s "$work/a/checkpoint.h5" ] || fail "no checkpoint after the signal"
[ ! -e "$work/a/result.txt" ] || fail "a stopped run wrote its result"
grep -q "stopped by SIGUSR1 during fit" "$work/a.log" || fail "no 'stopped by SIGUSR1' line: $(tail -n 5 "$work/a.log")"
read -r f1 b1 <<<"$(computed "$work/a")"
[ "$f1" -ge 10 ] && [ "$f1" -lt "$STEPS" ] && [ "$b1" = 0 ] || fail "stopped run computed fit=$f1 boost=$b1"
[ "$(run 4 "$work/a" --sleep 0)" = 0 ] || fail "resume at 4 ranks failed: $(tail -n 5 "$work/a.log")"
grep -q "checkpoint: resuming fit after step $f1 " "$work/a.log" || fail "no 'resuming fit after step $f1' line"
read -r f2 b2 <<<"$(computed "$work/a")"
[ "$((f1 + f2))" = "$STEPS" ] && [ "$b2" = "$STEPS" ] || fail "resumed run computed fit=$f2 boost=$b2 after fit=$f1"
cmp "$work/ref/result.txt" "$work/a/result.txt" || fail "results after a 2 -> 4 rank resume differ from the reference"
[ ! -e "$work/a/checkpoint.h5" ] || fail "the checkpoint was not removed after the resumed run finished"
echo "ok: SIGUSR1 to one rank of 2, resumed at 4 ranks: $f1 + $f2 fit steps, identical results"

# 2. SIGTERM to every rank of 4 during stage 2, resume at 1 rank
rc=$(signal_when 4 "$work/b" "boost step 5" TERM "0 1 2 3")
[ "$rc" = 75 ] || fail "SIGTERM run exited with $rc, not 75: $(tail -n 5 "$work/b.log")"
grep -q "stopped by SIGTERM during boost" "$work/b.log" || fail "no 'stopped by SIGTERM during boost' line"
read -r f1 b1 <<<"$(computed "$work/b")"
[ "$(run 1 "$work/b" --sleep 0)" = 0 ] || fail "resume at 1 rank failed: $(tail -n 5 "$work/b.log")"
read -r f2 b2 <<<"$(computed "$work/b")"
[ "$f2" = 0 ] || fail "stage 1 was recomputed after a stop in stage 2 ($f2 steps)"
[ "$((b1 + b2))" = "$STEPS" ] || fail "boost steps $b1 + $b2 != $STEPS"
cmp "$work/ref/result.txt" "$work/b/result.txt" || fail "results after a 4 -> 1 rank resume differ from the reference"
echo "ok: SIGTERM during stage 2 at 4 ranks, resumed at 1 rank: stage 1 not redone ($b1 + $b2 boost steps), identical"

# 3. timed checkpoints
[ "$(run 2 "$work/c" --sleep 15 --every 0.1)" = 0 ] || fail "timed-checkpoint run failed: $(tail -n 5 "$work/c.log")"
n=$(grep -c "checkpoint: .* saved to" "$work/c.log" || true)
[ "$n" -ge 2 ] || fail "only $n timed checkpoints in a 1.2 s run with checkpoint_seconds = 0.1"
cmp "$work/ref/result.txt" "$work/c/result.txt" || fail "timed checkpoints changed the results"
echo "ok: $n timed checkpoints, identical results"

# 4. a checkpoint of another configuration is not used
rc=$(signal_when 2 "$work/d" "fit step 8" USR1 "0" --param 2)
[ "$rc" = 75 ] || fail "param-2 run exited with $rc"
[ "$(run 2 "$work/d" --sleep 0)" = 0 ] || fail "run after a foreign checkpoint failed: $(tail -n 5 "$work/d.log")"
grep -q "another configuration or data set" "$work/d.log" || fail "no line about the foreign checkpoint"
read -r f2 b2 <<<"$(computed "$work/d")"
[ "$f2" = "$STEPS" ] || fail "a foreign checkpoint was resumed from (fit steps $f2)"
cmp "$work/ref/result.txt" "$work/d/result.txt" || fail "results after ignoring a foreign checkpoint differ"
echo "ok: a checkpoint of another configuration is ignored"

# 5. a damaged checkpoint: one clear error, no hang
mkdir -p "$work/e"
head -c 4096 /dev/urandom >"$work/e/checkpoint.h5"
rc=$(run 2 "$work/e" --sleep 0)
[ "$rc" = 6 ] || fail "a damaged checkpoint gave status $rc, not 6: $(tail -n 5 "$work/e.log")"
grep -q "checkpoint_driver: checkpoint $work/e/checkpoint.h5 cannot be read (damaged" "$work/e.log" ||
  fail "unclear message for a damaged checkpoint: $(grep checkpoint_driver "$work/e.log")"
echo "ok: a damaged checkpoint stops the run with status 6 and one line"

# 6. a state that differs between ranks is refused (status 7), not saved
rc=$(run 2 "$work/f" --sleep 5 --every 0.01 --skew 1)
[ "$rc" = 7 ] || fail "a per-rank state gave status $rc, not 7: $(tail -n 5 "$work/f.log")"
grep -q "the fit state differs between ranks" "$work/f.log" || fail "no message about a state that differs between ranks"
[ ! -e "$work/f/checkpoint.h5" ] || fail "a per-rank state was saved"
echo "ok: a state that differs between ranks is refused"
echo "PASS"
