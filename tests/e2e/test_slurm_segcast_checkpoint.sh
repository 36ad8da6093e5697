#!/usr/bin/env bash
# The real pipeline stopped mid-training through Slurm: jobs/pipeline.sbatch
# runs `segcast run` on a small generated set with many boosting rounds;
# once the job's output shows boosting progress, `scancel --batch
# --signal=USR1` (what `--signal=B:USR1@...` does before a time limit) reaches
# the batch shell, which forwards it; the ranks save a checkpoint and exit 75;
# the job requeues itself, resumes, and COMPLETES. Its outputs must equal,
# byte for byte, an uninterrupted `segcast run` of the same configuration.
set -euo pipefail
source "$(dirname "$0")/test_slurm_lib.sh"
slurm_test_start slurm-segcast
T=$SLURM_TEST_DIR
cd "$T"
"$SEGCAST_BIN" generate --layout marketplace --out "$T/data" --users 3000 --seed 5 > /dev/null
args=(--set "input.path=$T/data" --set generate.users=0 --set forecast.rounds=1500 --set forecast.eta=0.01
      --set forecast.max_depth=6 --set segment.k_max=4)
timeout 300 ${SEGCAST_MPIRUN:-mpirun --oversubscribe} -np 1 "$SEGCAST_BIN" run --config "$SEGCAST_ROOT/configs/small.ini" \
  "${args[@]}" --set "run.out=$T/ref" > "$T/ref.log" 2>&1 || fail "reference run failed: $(tail -n 5 "$T/ref.log")"
id=$(sbatch --parsable -n 2 -c 1 --time=10 --requeue --open-mode=append --output="$T/job-%j.out" \
  "$SEGCAST_ROOT/jobs/pipeline.sbatch" "$SEGCAST_ROOT/configs/small.ini" "${args[@]}" --set "run.out=$T/out") ||
  fail "sbatch failed"
for i in $(seq 1 1200); do
  grep -q "forecast: boosting:" "$T/job-$id.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "forecast: boosting:" "$T/job-$id.out" || fail "no boosting progress in the job output: $(tail -n 5 "$T/job-$id.out")"
scancel --batch --signal=USR1 "$id"
state=$(wait_job "$id" 400 1) || exit 1
[ "$state" = COMPLETED ] || fail "job $id ended $state: $(tail -n 8 "$T/job-$id.out")"
grep -q "requeueing job $id to resume" "$T/job-$id.out" || fail "the job did not requeue itself: $(tail -n 8 "$T/job-$id.out")"
grep -q "checkpoint: resuming" "$T/job-$id.out" || fail "the requeued job did not resume from a checkpoint"
for f in customer_segments.csv segment_profiles.csv model_selection.csv kmeans_model.json gbdt_model.json \
  forecast.csv feature_importance.csv; do
  cmp "$T/ref/$f" "$T/out/$f" || fail "$f after a Slurm signal and requeue differs from the uninterrupted run"
done
echo "ok: segcast run signalled mid-boosting through Slurm, requeued, resumed, identical outputs"
