# segcast-job.sh: what every jobs/*.sbatch script shares. Sourced, not run.
#
# segcast_job_setup   finds the program (segcast_find_program), sets threads,
#                     binding and the MPI-IO layer, and prints one line
#                     describing the allocation and naming the program.
# segcast_find_program  sets SEGCAST_BIN to the first of: segcast on PATH
#                     (`module load segcast`, the Debian package), the
#                     SEGCAST_BIN given, $SEGCAST_ROOT/build/segcast; and
#                     SEGCAST_BIN_FROM to "PATH", "SEGCAST_BIN" or "build/".
# segcast_step ARGS   runs `srun ... segcast ARGS` with SIGUSR1 / SIGTERM
#                     forwarded to the ranks; returns segcast's exit status.
#                     On status 75 (stopped after a checkpoint) it requeues
#                     the job, which resumes from the checkpoint.
#
# Environment it reads (all optional):
#   SEGCAST_ROOT    the repository (default: the folder sbatch was run from)
#   SEGCAST_BIN     the program when none is on PATH (default:
#                   $SEGCAST_ROOT/build/segcast)
#   SEGCAST_JOBS    the folder of these scripts (set by each .sbatch)
#   SEGCAST_MAX_RESTARTS   requeues allowed after checkpoints (default 20)
#   SEGCAST_CPU_BIND  srun --cpu-bind value (default: cores where the
#                   cluster's TaskPlugin can bind, none elsewhere)
#
# Why it looks like this:
# - Slurm delivers `--signal=B:USR1@120` to this batch shell only, and bash
#   runs a trap only between commands, so srun runs in the background and
#   the shell waits for it in a loop; the trap forwards the signal to srun,
#   which forwards it to every rank (checked on Slurm 22.05).
# - Since Slurm 22.05, srun does not inherit --cpus-per-task from sbatch:
#   SRUN_CPUS_PER_TASK passes it on, or every rank would get one CPU.
# - OpenMP threads are pinned (OMP_PROC_BIND=close, OMP_PLACES=cores) only
#   when Slurm gave each rank its own cores (the task's CPU mask holds no
#   more CPUs than it has threads); on a cluster without task binding every
#   rank would otherwise pin its threads to the same first cores.
# - Parallel HDF5 with Open MPI 4.1's default MPI-IO layer (ompio) has hung
#   on collective writes where a rank has nothing to write: ROMIO is used.

segcast_find_program() {
  : "${SEGCAST_ROOT:=${SLURM_SUBMIT_DIR:-$(pwd)}}"
  local on_path
  on_path=$(type -P segcast || true)
  if [ -n "$on_path" ]; then
    SEGCAST_BIN=$on_path SEGCAST_BIN_FROM=PATH
  elif [ -n "${SEGCAST_BIN:-}" ]; then
    SEGCAST_BIN_FROM=SEGCAST_BIN
  else
    SEGCAST_BIN=$SEGCAST_ROOT/build/segcast SEGCAST_BIN_FROM=build/
  fi
  if [ ! -x "$SEGCAST_BIN" ]; then
    echo "segcast job: no segcast on PATH and no program at $SEGCAST_BIN ($SEGCAST_BIN_FROM):" \
      "module load segcast, set SEGCAST_BIN, or build it (cmake -S . -B build && cmake --build build)" >&2
    exit 2
  fi
}

segcast_job_setup() {
  segcast_find_program
  export SEGCAST_ROOT SEGCAST_BIN ${SEGCAST_JOBS:+SEGCAST_JOBS}
  SEGCAST_THREADS=${SLURM_CPUS_PER_TASK:-1}
  export OMP_NUM_THREADS=$SEGCAST_THREADS
  export SRUN_CPUS_PER_TASK=$SEGCAST_THREADS
  export OMPI_MCA_io=romio321
  # bind ranks to cores where Slurm can (task/affinity or task/cgroup);
  # elsewhere srun would only warn that it cannot
  SEGCAST_CPU_BIND=${SEGCAST_CPU_BIND:-}
  if [ -z "$SEGCAST_CPU_BIND" ]; then
    case "$(scontrol show config 2>/dev/null | sed -n 's/^TaskPlugin *= *//p')" in
      *affinity* | *cgroup*) SEGCAST_CPU_BIND=cores ;;
      *) SEGCAST_CPU_BIND=none ;;
    esac
  fi
  echo "segcast job ${SLURM_JOB_ID:-?}${SLURM_ARRAY_TASK_ID:+ (array task $SLURM_ARRAY_TASK_ID)}:" \
    "${SLURM_NTASKS:-1} ranks x $SEGCAST_THREADS threads on ${SLURM_JOB_NODELIST:-$(hostname)}," \
    "restart ${SLURM_RESTART_COUNT:-0}, program $SEGCAST_BIN (from $SEGCAST_BIN_FROM)"
}

# The command each rank runs: binds threads only when the rank owns its cores.
segcast_task_wrapper() {
  cat <<'EOF'
cpus=$(nproc)
if [ "$cpus" -le "${OMP_NUM_THREADS:-1}" ]; then
  export OMP_PROC_BIND=close OMP_PLACES=cores
else
  export OMP_PROC_BIND=false
fi
# a profiling library for the ranks only (not for srun): SEGCAST_PRELOAD
if [ -n "${SEGCAST_PRELOAD:-}" ]; then export LD_PRELOAD=$SEGCAST_PRELOAD; fi
exec "$@"
EOF
}

# segcast_srun [SRUN_OPTIONS --] PROGRAM ARGS: srun with the signals forwarded.
# Prints nothing itself; returns the step's exit status.
segcast_srun() {
  local opts=()
  if [ "${1:-}" = "--opts" ]; then
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
      opts+=("$1")
      shift
    done
    shift
  fi
  srun --mpi=pmix --cpu-bind="${SEGCAST_CPU_BIND:-none}" --kill-on-bad-exit=1 "${opts[@]}" \
    bash -c "$(segcast_task_wrapper)" segcast-task "$@" &
  local pid=$! rc=0
  SEGCAST_SIGNALLED=""
  trap 'SEGCAST_SIGNALLED=USR1; kill -USR1 '"$pid"' 2>/dev/null' USR1
  trap 'SEGCAST_SIGNALLED=TERM; kill -TERM '"$pid"' 2>/dev/null' TERM
  while :; do
    wait "$pid" && rc=0 || rc=$?
    kill -0 "$pid" 2>/dev/null || break # a trap interrupted wait: wait again
  done
  trap - USR1 TERM
  return "$rc"
}

# segcast_step ARGS: runs segcast ARGS on every rank; on exit status 75 the
# ranks saved a checkpoint after a signal, and the job is requeued.
segcast_step() {
  local rc=0
  segcast_srun "$SEGCAST_BIN" "$@" || rc=$?
  if [ "$rc" = 75 ]; then
    local restarts=${SLURM_RESTART_COUNT:-0} max=${SEGCAST_MAX_RESTARTS:-20}
    if [ -z "${SLURM_JOB_ID:-}" ]; then
      echo "segcast job: stopped after a checkpoint; run the same command again to resume" >&2
    elif [ "$restarts" -ge "$max" ]; then
      echo "segcast job: stopped after a checkpoint, but it was requeued $restarts times already" \
        "(SEGCAST_MAX_RESTARTS=$max): resubmit by hand to resume" >&2
    else
      echo "segcast job: stopped after a checkpoint (signal ${SEGCAST_SIGNALLED:-to a rank}); requeueing job $SLURM_JOB_ID to resume"
      # requeue ends this shell; a job submitted with --no-requeue gets an
      # error here and keeps status 75 so a dependent job does not start
      if scontrol requeue "$SLURM_JOB_ID"; then
        sleep 600 # Slurm ends this shell while it requeues the job
        return "$rc"
      fi
      echo "segcast job: could not requeue $SLURM_JOB_ID (submitted with --no-requeue?): resubmit to resume" >&2
    fi
  fi
  return "$rc"
}
