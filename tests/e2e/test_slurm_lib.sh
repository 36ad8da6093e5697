# test_slurm_lib.sh: what the Slurm tests share (sourced, not a test).
#
# slurm_test_start NAME   makes a private folder, installs the packages when
#                         missing (scripts/setup.sh), stands up a single-node
#                         cluster in it (scripts/slurm-local.sh) and arms a trap
#                         that tears it down and removes the folder on any exit;
#                         on failure it first prints the daemons' log tails
# wait_job ID SECONDS [MIN_RESTARTS]   polls `scontrol show job -o` every 0.5 s
#                         until the job is in a final state after at least
#                         MIN_RESTARTS restarts (default 0); echoes the state;
#                         on timeout cancels the job and fails
# job_field ID FIELD      one field of `scontrol show job -o ID`
# fail MESSAGE            prints FAIL and exits 1
#
# Needs root (the daemons run as root, as on a CI machine without systemd).

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

slurm_test_cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "${SLURM_TEST_DIR:-}" ]; then
    echo "--- slurmctld / slurmd log tails ($SLURM_TEST_DIR/cluster/log)" >&2
    tail -n 20 "$SLURM_TEST_DIR/cluster/log/slurmctld.log" "$SLURM_TEST_DIR/cluster/log/slurmd.log" >&2 2>/dev/null || true
    for f in "$SLURM_TEST_DIR"/*.out; do
      [ -e "$f" ] || continue
      echo "--- $f (last 30 lines)" >&2
      tail -n 30 "$f" >&2
    done
  fi
  if [ -n "${SLURM_TEST_DIR:-}" ]; then
    timeout 60 bash "$SEGCAST_ROOT/scripts/slurm-local.sh" down "$SLURM_TEST_DIR/cluster" || true
    rm -rf "$SLURM_TEST_DIR"
  fi
  exit "$rc"
}

slurm_test_start() {
  : "${SEGCAST_ROOT:?set by CTest}" "${SEGCAST_BIN:?set by CTest}"
  [ "$(id -u)" = 0 ] || fail "the Slurm test runs the daemons as root: run CTest as root (as CI does)"
  if ! command -v slurmctld >/dev/null && [ ! -x /usr/sbin/slurmctld ]; then
    echo "installing the Slurm packages (scripts/setup.sh)"
    timeout 600 bash "$SEGCAST_ROOT/scripts/setup.sh" || fail "scripts/setup.sh could not install Slurm and munge"
  fi
  SLURM_TEST_DIR=$(mktemp -d "/tmp/segcast-$1.XXXXXX")
  chmod 755 "$SLURM_TEST_DIR"
  trap slurm_test_cleanup EXIT
  trap 'exit 130' INT TERM
  timeout 120 bash "$SEGCAST_ROOT/scripts/slurm-local.sh" up "$SLURM_TEST_DIR/cluster" || fail "could not stand up Slurm"
  export SLURM_CONF="$SLURM_TEST_DIR/cluster/etc/slurm.conf"
  export SEGCAST_ROOT SEGCAST_BIN
  # the jobs' ranks share 2 cores with whatever else CTest runs: waiting
  # ranks yield instead of busy-polling (halves a 2-rank run on a busy box)
  export OMPI_MCA_mpi_yield_when_idle=1
}

job_field() {
  timeout 10 scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

wait_job() {
  local id=$1 limit=$2 min_restarts=${3:-0} end state restarts
  end=$(($(date +%s) + limit))
  while [ "$(date +%s)" -lt "$end" ]; do
    state=$(job_field "$id" JobState)
    restarts=$(job_field "$id" Restarts)
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        if [ "${restarts:-0}" -ge "$min_restarts" ]; then
          echo "$state"
          return 0
        fi
        ;;
    esac
    sleep 0.5
  done
  timeout 10 scancel "$id" 2>/dev/null || true
  fail "job $id did not finish within $limit s (state ${state:-unknown}, restarts ${restarts:-?})"
}
