#!/usr/bin/env bash
# Checkpoint and restart through Slurm, with the job machinery every
# jobs/*.sbatch uses (jobs/segcast-job.sh: srun --mpi=pmix, signals
# forwarded to the ranks, requeue on exit status 75). The program is
# checkpoint_driver, a two-stage training loop built on src/checkpoint.h;
# the reference is the same driver run uninterrupted under mpirun.
#
# 1. `scancel --batch --signal=USR1` (what `--signal=B:USR1@120` does before
#    the time limit) during stage 1 of a 2-rank job: the batch shell forwards
#    it, the ranks save and exit 75, the job requeues itself (Restarts=1),
#    resumes after the saved step and COMPLETES with byte-identical results;
#    its output file (appended across restarts) tells the story.
# 2. `scancel --signal=TERM` to the job's step during stage 2, in a job not
#    allowed to requeue itself (SEGCAST_MAX_RESTARTS=0): the job FAILS with
#    exit code 75; then `scontrol requeue` restarts it, it resumes without
#    redoing stage 1 and COMPLETES with byte-identical results.
set -euo pipefail
source "$(dirname "$0")/test_slurm_lib.sh"
DRIVER=${SEGCAST_CHECKPOINT_DRIVER:?set by tests/slurm.cmake}
slurm_test_start slurm-ckpt
T=$SLURM_TEST_DIR
STEPS=40
cd "$T"

# the reference, outside Slurm
timeout 120 ${SEGCAST_MPIRUN:-mpirun --oversubscribe} -np 1 "$DRIVER" "$T/ref" "$STEPS" --sleep 0 >"$T/ref.log" 2>&1 ||
  fail "reference run failed: $(tail -n 5 "$T/ref.log")"

# a job script like pipeline.sbatch, running the driver instead of segcast
cat >"$T/driver.sbatch" <<'EOF'
#!/bin/bash
#SBATCH --requeue
#SBATCH --open-mode=append
set -euo pipefail
source "$SEGCAST_ROOT/jobs/segcast-job.sh"
segcast_job_setup
segcast_step "$@"
EOF

# wait_for FILE PATTERN SECONDS: until a line of FILE is PATTERN
wait_for() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    grep -q "^$2\$" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "'$2' did not appear in $1 within $3 s: $(tail -n 5 "$1" 2>/dev/null)"
}

# 1. USR1 to the batch shell, self-requeue
id=$(SEGCAST_BIN=$DRIVER sbatch --parsable -n 2 -c 1 --time=10 --output="$T/a-%j.out" "$T/driver.sbatch" \
  "$T/a" "$STEPS" --sleep 80) || fail "sbatch failed"
wait_for "$T/a-$id.out" "fit step 10" 120
scancel --batch --signal=USR1 "$id"
state=$(wait_job "$id" 200 1) || exit 1
out="$T/a-$id.out"
[ "$state" = COMPLETED ] || fail "job $id ended $state after its restart"
[ "$(job_field "$id" Restarts)" = 1 ] || fail "job $id restarted $(job_field "$id" Restarts) times, not once"
grep -q "stopped by SIGUSR1 during fit after saving its state" "$out" || fail "no 'stopped by SIGUSR1' in $out"
grep -q "requeueing job $id to resume" "$out" || fail "the job did not requeue itself"
grep -q "^segcast job $id: 2 ranks x 1 threads .*restart 1," "$out" || fail "no header line of the restart"
step=$(sed -n 's/.*checkpoint: resuming fit after step \([0-9]*\) .*/\1/p' "$out")
[ -n "$step" ] && [ "$step" -ge 10 ] && [ "$step" -lt "$STEPS" ] || fail "the restart did not resume fit mid-way (step '$step')"
cmp "$T/ref/result.txt" "$T/a/result.txt" || fail "results after a Slurm requeue differ from the uninterrupted run"
[ ! -e "$T/a/checkpoint.h5" ] || fail "the checkpoint was left after the job completed"
echo "ok: USR1 via the batch shell, self-requeue, resumed after fit step $step, identical results"

# 2. TERM to the step, no self-requeue, then scontrol requeue
id=$(SEGCAST_BIN=$DRIVER SEGCAST_MAX_RESTARTS=0 sbatch --parsable -n 2 -c 1 --time=10 --output="$T/b-%j.out" \
  "$T/driver.sbatch" "$T/b" "$STEPS" --sleep 80) || fail "sbatch failed"
wait_for "$T/b-$id.out" "boost step 3" 120
scancel --signal=TERM "$id"
state=$(wait_job "$id" 120 0) || exit 1
[ "$state" = FAILED ] || fail "job $id ended $state, expected FAILED after a checkpoint without requeue"
[ "$(job_field "$id" ExitCode)" = 75:0 ] || fail "job $id exit code $(job_field "$id" ExitCode), expected 75:0"
grep -q "stopped by SIGTERM during boost" "$T/b-$id.out" || fail "no 'stopped by SIGTERM during boost'"
grep -q "requeued 0 times already (SEGCAST_MAX_RESTARTS=0)" "$T/b-$id.out" || fail "no line about the restart limit"
[ -s "$T/b/checkpoint.h5" ] || fail "no checkpoint after SIGTERM"
scontrol requeue "$id" || fail "scontrol requeue $id failed"
state=$(wait_job "$id" 200 1) || exit 1
[ "$state" = COMPLETED ] || fail "requeued job $id ended $state"
grep -q "checkpoint: resuming boost after step" "$T/b-$id.out" || fail "the requeued job did not resume boost"
grep -q "^computed fit 0 boost " "$T/b-$id.out" || fail "the requeued job recomputed stage 1"
cmp "$T/ref/result.txt" "$T/b/result.txt" || fail "results after scontrol requeue differ from the uninterrupted run"
echo "ok: TERM to the step, FAILED with 75, scontrol requeue resumed boost, identical results"
echo "PASS"
