#!/usr/bin/env bash
# A rank killed with SIGKILL (issue 17 item 3), at exact points: during
# ingest (after its 3rd step, the orders read, before the exchanges), the
# k-means sweep (before its 2nd seeding's checkpoint_due) and boosting
# (round 3), on rank 1 of 2 and on rank 0 of 2 (the test-only
# SEGCAST_TEST_SIGNAL=KILL with SEGCAST_TEST_SIGNAL_AT=<stage>:<step>:<rank>).
# Each time, into a folder holding a finished run's outputs:
#   - the job ends within 20 s with a non-zero status and mpirun's line
#     naming the rank killed by signal 9;
#   - no segcast (or its mpirun) is left running;
#   - the folder's files are the previous run's, byte for byte: nothing of
#     the killed run was published, no temporary in the folder;
#   - the next run into the folder removes the dead run's staging folder
#     and takes over its lock (both said in a line) and finishes whole.
# Then SIGTERM during the forecast of a second run, to the ranks and to
# mpirun (the issue's own case): see below.
set -euo pipefail
. "$SEGCAST_ROOT/tests/e2e/faults_common.sh"
out=$tmp/out
host=$(hostname)
rc=$(sc 2 "$tmp/ok.log" run --set run.out="$out")
expect_rc 0 "$rc" "$tmp/ok.log" "the first run"
before=$(snap "$out")
for at in ingest:3:1 segment:2:1 forecast:3:1 forecast:3:0 ingest:3:0; do
  t0=$(date +%s.%N)
  rc=$(SEGCAST_TEST_SIGNAL=KILL SEGCAST_TEST_SIGNAL_AT=$at sc 2 "$tmp/k.log" run --set run.out="$out" --set run.seed=9)
  dt=$($py -c "print(round($(date +%s.%N) - $t0, 2))")
  echo "faults_kill: $at: status $rc after $dt s"
  [ "$rc" != 0 ] || fail "$at: the job exited 0"
  $py -c "import sys; sys.exit($dt > 20)" || fail "$at: the job took $dt s to end"
  expect_line "$tmp/k.log" "(mpirun|mpiexec) noticed that process rank ${at##*:} with PID .* exited on signal 9 \(Killed\)" "$at"
  no_procs
  [ "$(snap "$out")" = "$before" ] || fail "$at: the folder's files changed"
  # the next run cleans up after the dead one (rank 0 died, or was killed by mpirun)
  ls -A "$tmp" | grep -q "^\.out\.staging-$host-" || fail "$at: no staging folder of the killed run (was it published?)"
  rc=$(sc 1 "$tmp/n.log" report --set run.out="$out")
  expect_rc 0 "$rc" "$tmp/n.log" "the run after $at"
  expect_line "$tmp/n.log" "output: removing $tmp/\.out\.staging-$host-[0-9]+, the staging folder of a run that is no longer running" \
    "the run after $at"
  no_litter "$out"
  whole "$out"
  before=$(snap "$out")
done

# SIGTERM during the forecast of a second run, twice.
# 1. To the ranks, as Slurm delivers it (srun and scancel signal the tasks):
#    they save their boosting state and stop; the folder keeps the first
#    run's outputs and gains only checkpoint.h5.
# 2. To mpirun, the issue's case. Open MPI then sends the ranks SIGCONT,
#    SIGTERM and SIGKILL odls_base_sigkill_timeout seconds apart (1 by
#    default), and was seen to end some jobs before the ranks saw the
#    SIGTERM: either the state is saved as in 1, or the job ended as by a
#    SIGKILL. Both ways no rank is left, the folder's outputs are the first
#    run's, and the next run into it cleans up and finishes whole.
term_forecast() { # WHO (ranks | mpirun): runs, sends SIGTERM, prints the status
  rm -f "$out/checkpoint.h5"
  timeout 120 $MPIRUN -np 2 "$SEGCAST_BIN" run --config "$cfg" --set run.out="$out" --set run.seed=9 \
    --set forecast.rounds=100000 >"$tmp/t.log" 2>&1 &
  local job=$! rc=0
  for _ in $(seq 600); do
    grep -q "forecast: .* training, .* validation" "$tmp/t.log" && break
    sleep 0.1
  done
  sleep 0.5
  if [ "$1" = ranks ]; then pkill -TERM -f "^$SEGCAST_BIN run --config $cfg"; else kill -TERM $job; fi
  wait $job || rc=$?
  echo "$rc"
}
before=$(snap "$out")
rc=$(term_forecast ranks)
echo "faults_kill: SIGTERM to the ranks during boosting: status $rc"
[ "$rc" != 0 ] || fail "SIGTERM to the ranks: status 0"
expect_line "$tmp/t.log" "segcast: stopped by SIGTERM during forecast after saving its state" "SIGTERM to the ranks"
no_procs
no_litter "$out"
[ -e "$out/checkpoint.h5" ] || fail "SIGTERM to the ranks: no checkpoint.h5"
rm "$out/checkpoint.h5"
[ "$(snap "$out")" = "$before" ] || fail "SIGTERM to the ranks: the folder's outputs changed"
whole "$out"

rc=$(term_forecast mpirun)
saved=0
grep -Eq "segcast: stopped by SIGTERM during forecast after saving its state" "$tmp/t.log" && saved=1
echo "faults_kill: SIGTERM to mpirun during boosting: status $rc, state saved: $saved"
[ "$rc" != 0 ] || fail "SIGTERM to mpirun: status 0"
for _ in $(seq 50); do [ -z "$(pgrep -f "$SEGCAST_BIN .*$tmp" || true)" ] && break; sleep 0.1; done
no_procs
if [ $saved = 1 ]; then
  no_litter "$out"
  [ -e "$out/checkpoint.h5" ] || fail "SIGTERM to mpirun: saved, but no checkpoint.h5"
fi
rm -f "$out/checkpoint.h5"
[ "$(snap "$out")" = "$before" ] || fail "SIGTERM to mpirun: the folder's outputs changed"
whole "$out"
rc=$(sc 2 "$tmp/n.log" run --set run.out="$out")
expect_rc 0 "$rc" "$tmp/n.log" "the run after SIGTERM to mpirun"
no_litter "$out"
whole "$out"
echo "faults_kill: passed"
