# scaling-job.sh: what scaling-strong.sbatch and scaling-weak.sbatch share.
# Sourced after segcast-job.sh.
#
# scaling_run MODE USERS CONFIG OUT
#   runs the pipeline on a generated data set of USERS users at this array
#   task's rank count (SLURM_ARRAY_TASK_ID is the number of ranks) and
#   appends one row per stage to OUT/scaling.csv (bench/scaling_collect.py).
#   The data set is generated once into OUT/data-<USERS> by the first task
#   that needs it (under a lock) with all of that task's ranks. When
#   SEGCAST_MPIPROF names bench's libscaling_mpiprof.so, the ranks run with
#   it preloaded and the rows split each stage into compute, communication
#   and I/O; otherwise they hold wall times.

scaling_run() {
  local mode=$1 users=$2 config=$3 out=$4
  local np=${SLURM_ARRAY_TASK_ID:-${SLURM_NTASKS:-1}}
  case "$np" in '' | *[!0-9]* | 0) echo "scaling: the array index must be a rank count (--array=1,2,4%1), not '$np'" >&2; return 2 ;; esac
  if [ "$np" -gt "${SLURM_NTASKS:-1}" ]; then
    echo "scaling: array task $np needs $np ranks but the job has ${SLURM_NTASKS:-1}: submit with --ntasks >= the largest rank count" >&2
    return 2
  fi
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  local data="$out/data-$users" tag="$mode-${np}r-${users}u-${SLURM_JOB_ID:-$$}"
  (
    flock -w 7200 8 || { echo "scaling: $data is locked for 2 hours" >&2; exit 1; }
    if [ ! -s "$data/orders.csv" ]; then
      echo "scaling: generating $users users into $data"
      segcast_srun --opts -n "$np" -- "$SEGCAST_BIN" generate --layout marketplace --out "$data" --users "$users" --seed 42
    fi
  ) 8>"$out/.data-$users.lock"
  rm -rf "$out/$tag.prof"
  mkdir -p "$out/$tag.prof"
  export SEGCAST_MPIPROF_DIR="$out/$tag.prof"
  [ -n "${SEGCAST_MPIPROF:-}" ] && export SEGCAST_PRELOAD=$SEGCAST_MPIPROF
  local rc=0
  segcast_srun --opts -n "$np" -- "$SEGCAST_BIN" run --config "$config" --set "run.out=$out/$tag" \
    --set "input.path=$data" --set generate.users=0 || rc=$?
  unset SEGCAST_PRELOAD
  [ "$rc" = 0 ] || { echo "scaling: the $mode run at $np ranks failed with status $rc" >&2; return "$rc"; }
  local PY=/usr/bin/python3 profdir=-
  [ -x "$PY" ] || PY=python3
  [ -n "${SEGCAST_MPIPROF:-}" ] && profdir="$out/$tag.prof"
  (
    flock -w 600 9 || exit 1
    "$PY" "$SEGCAST_ROOT/bench/scaling_collect.py" "$out/$tag/summary.json" "$profdir" "$mode" "$out/scaling.csv" --run "$tag" \
      --note "slurm job ${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-}} on ${SLURM_JOB_NODELIST:-?}, $np x ${SEGCAST_THREADS:-1} threads"
  ) 9>"$out/.scaling.csv.lock"
  rm -f "$out/$tag/store.h5"
}
