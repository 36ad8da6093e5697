#!/usr/bin/env bash
# Installed like an HPC tool (issue 18): `cmake --install` into a temporary
# prefix, then, from an empty project folder outside the repository:
#  - the prefix holds bin/segcast (no run path into the build tree),
#    share/segcast/{configs,jobs,docs}, share/man/man1/segcast.1 and the Lmod
#    modulefile share/modulefiles/segcast/<version>.lua;
#  - Debian's Lmod: `module use` + `module load segcast` put that segcast on
#    PATH and its page on MANPATH (`man segcast` renders the key list) and set
#    SEGCAST_SHARE; `segcast --version` names this checkout's commit;
#  - `segcast run` (one rank, no launcher) on a small configuration written
#    there, with relative paths: the outputs land under the project folder
#    and hold up (tests/e2e/test_install_lib.sh, check_tiny_outputs);
#  - a real single-node Slurm (scripts/slurm-local.sh): the installed
#    share/segcast/jobs/pipeline.sbatch submitted from the project folder
#    with a configuration in conf/, without SEGCAST_BIN or SEGCAST_ROOT:
#    COMPLETED 0:0, the job's first line names the installed segcast "from
#    PATH", its outputs are under the submit folder (not conf/), at 2 ranks,
#    customer_segments.csv byte for byte the 1-rank run's, and the job's
#    output never mentions the repository;
#  - `module unload segcast` takes it all away again.
set -euo pipefail
source "$(dirname "$0")/test_install_lib.sh"
: "${SEGCAST_BUILD:?set by CTest}"
slurm_test_start installed
T=$SLURM_TEST_DIR
P="$T/prefix"
version=$(sed -n 's/^project(segcast VERSION \([0-9.]*\).*/\1/p' "$SEGCAST_ROOT/CMakeLists.txt")
commit=$(expected_commit)

# ---- the prefix --------------------------------------------------------------
cmake --install "$SEGCAST_BUILD" --prefix "$P" >"$T/install.log" || fail "cmake --install failed: $(tail -n 5 "$T/install.log")"
[ -x "$P/bin/segcast" ] || fail "no executable $P/bin/segcast"
for f in share/segcast/configs/default.ini share/segcast/configs/small.ini share/segcast/configs/large.ini \
  share/segcast/jobs/segcast-job.sh share/segcast/docs/config.md share/segcast/docs/operations.md \
  share/man/man1/segcast.1 "share/modulefiles/segcast/$version.lua"; do
  [ -s "$P/$f" ] || fail "the install has no $f"
done
for f in pipeline.sbatch retrain.sbatch compare_runs.py; do
  [ -x "$P/share/segcast/jobs/$f" ] || fail "the install has no executable share/segcast/jobs/$f"
done
if readelf -d "$P/bin/segcast" | grep -E 'RPATH|RUNPATH' | grep -qF "$SEGCAST_BUILD"; then
  fail "the installed segcast has a run path into the build tree"
fi
echo "ok: installed into $P ($(find "$P" -type f | wc -l) files)"

# ---- module load, from an empty folder -------------------------------------
project="$T/project"
mkdir -p "$project"
cd "$project"
set +u # Lmod's shell functions read unset variables
# shellcheck disable=SC1091
source /etc/profile.d/lmod.sh || fail "cannot start Lmod (/etc/profile.d/lmod.sh): apt-get install lmod"
module use "$P/share/modulefiles"
module load segcast || fail "module load segcast failed"
set -u
[ "$(type -P segcast)" = "$P/bin/segcast" ] || fail "after module load, segcast on PATH is '$(type -P segcast)'"
[ "${SEGCAST_SHARE:-}" = "$P/share/segcast" ] || fail "SEGCAST_SHARE is '${SEGCAST_SHARE:-}'"
[ "$(man -w segcast)" = "$P/share/man/man1/segcast.1" ] || fail "man finds '$(man -w segcast)', not the module's page"
MANWIDTH=80 man segcast 2>"$T/man.err" | col -b >"$T/man.txt"
[ ! -s "$T/man.err" ] || fail "man segcast complained: $(cat "$T/man.err")"
grep -q "forecast.lead_time_days" "$T/man.txt" || fail "man segcast does not render the key list"
got=$(segcast --version)
[ "$got" = "segcast $version (commit $commit)" ] || fail "segcast --version: '$got'"
echo "ok: module load segcast: $got, SEGCAST_SHARE and man segcast from $P"

# ---- segcast run in the project folder -------------------------------------
write_tiny_config tiny.ini
segcast run --config tiny.ini >run.log 2>&1 || fail "segcast run failed: $(tail -n 5 run.log)"
[ -s "$project/data/tiny/orders.csv" ] || fail "the data was not generated into data/tiny under the project"
check_tiny_outputs "$project/out/tiny" 1 "$commit"

# ---- the installed pipeline.sbatch on a real Slurm --------------------------
mkdir conf
write_tiny_config conf/tiny.ini
id=$(env -u SEGCAST_BIN -u SEGCAST_ROOT sbatch --parsable --ntasks=2 --cpus-per-task=1 --time=10 \
  --output="$project/pipeline-%j.out" "$SEGCAST_SHARE/jobs/pipeline.sbatch" conf/tiny.ini --set run.out=out/slurm) ||
  fail "sbatch of the installed pipeline.sbatch failed"
echo "submitted the installed pipeline.sbatch as job $id"
state=$(wait_job "$id" 300) || exit 1
[ "$state" = COMPLETED ] || fail "job $id ended $state (exit $(job_field "$id" ExitCode))"
[ "$(job_field "$id" ExitCode)" = 0:0 ] || fail "job $id exit code $(job_field "$id" ExitCode)"
log="$project/pipeline-$id.out"
first=$(head -n 1 "$log")
case "$first" in
  "segcast job $id: 2 ranks x 1 threads on "*", program $P/bin/segcast (from PATH)") ;;
  *) fail "the job's first line does not name the installed segcast from PATH: $first" ;;
esac
grep -q "run: done in" "$log" || fail "no 'run: done' in $log"
if grep -qF "$SEGCAST_ROOT" "$log"; then fail "the job's output mentions the repository $SEGCAST_ROOT"; fi
[ ! -e "$project/conf/out" ] || fail "relative paths were read from the configuration's folder (conf/out exists)"
check_tiny_outputs "$project/out/slurm" 2 "$commit"
cmp -s "$project/out/tiny/customer_segments.csv" "$project/out/slurm/customer_segments.csv" ||
  fail "the 2-rank Slurm job's customer_segments.csv differs from the 1-rank run's"
echo "ok: job $id COMPLETED: $first"

set +u
module unload segcast
set -u
[ -z "$(type -P segcast)" ] || fail "after module unload, segcast is still on PATH"
[ -z "${SEGCAST_SHARE:-}" ] || fail "after module unload, SEGCAST_SHARE is still set"
echo "ok: module unload segcast"
echo PASS
