#!/usr/bin/env bash
# Which segcast the Slurm job scripts run (jobs/segcast-job.sh,
# segcast_find_program and the job's first line), without Slurm (issue 18):
#  - segcast on PATH wins, even over a SEGCAST_BIN that is set (PATH is what
#    `module load segcast` and the Debian package change);
#  - else SEGCAST_BIN; else build/segcast under SEGCAST_ROOT (the submit
#    folder);
#  - none of them: exit status 2 and one line saying what to do;
#  - the header line of segcast_job_setup names the program and its source.
set -euo pipefail
source "$(dirname "$0")/test_install_lib.sh"
: "${SEGCAST_ROOT:?set by CTest}"
T=$(mktemp -d /tmp/segcast-find.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/modbin" "$T/other" "$T/root/build" "$T/empty"
for p in "$T/modbin/segcast" "$T/other/segcast" "$T/root/build/segcast"; do
  printf '#!/bin/sh\necho %s\n' "$p" >"$p"
  chmod +x "$p"
done
base=/usr/bin:/bin
find_in() { # PATH SEGCAST_BIN SEGCAST_ROOT -> "FROM BIN"
  env -i PATH="$1" ${2:+SEGCAST_BIN=$2} SEGCAST_ROOT="$3" bash -c \
    'source "$0/jobs/segcast-job.sh"; segcast_find_program; echo "$SEGCAST_BIN_FROM $SEGCAST_BIN"' "$SEGCAST_ROOT"
}
check() { # WANT GOT WHAT
  [ "$2" = "$1" ] || fail "$3: got '$2', expected '$1'"
}
check "PATH $T/modbin/segcast" "$(find_in "$T/modbin:$base" "$T/other/segcast" "$T/root")" "PATH over SEGCAST_BIN"
check "PATH $T/modbin/segcast" "$(find_in "$T/modbin:$base" "" "$T/root")" "PATH alone"
check "SEGCAST_BIN $T/other/segcast" "$(find_in "$base" "$T/other/segcast" "$T/root")" "SEGCAST_BIN over build/"
check "build/ $T/root/build/segcast" "$(find_in "$base" "" "$T/root")" "build/ last"
set +e
msg=$(find_in "$base" "" "$T/empty" 2>&1)
rc=$?
set -e
check 2 "$rc" "exit status with no program anywhere"
case "$msg" in *"module load segcast, set SEGCAST_BIN, or build it"*) ;; *) fail "no advice when nothing is found: $msg" ;; esac
echo "ok: PATH, then SEGCAST_BIN, then build/; none: exit 2 with advice"

header=$(env -i PATH="$T/modbin:$base" SEGCAST_ROOT="$T/root" SLURM_JOB_ID=77 SLURM_NTASKS=2 bash -c \
  'source "$0/jobs/segcast-job.sh"; segcast_job_setup' "$SEGCAST_ROOT" 2>/dev/null)
check "segcast job 77: 2 ranks x 1 threads on $(hostname), restart 0, program $T/modbin/segcast (from PATH)" \
  "$header" "the job's header line"
echo "ok: $header"
echo PASS
