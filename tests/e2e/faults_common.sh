#!/usr/bin/env bash
# faults_common.sh: shared by tests/e2e/test_faults_*.sh (issue 17 item 3).
# Sourced after `set -euo pipefail`; sets $tmp (removed on exit), $data (a
# generated 3,000-user marketplace set), $cfg (a quick configuration) and
# the helpers below.
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
py=/usr/bin/python3
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
tmp=$(mktemp -d /tmp/segcast-faults.XXXXXX)
cleanup_hooks=()
trap 'for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done; rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

data=$tmp/data
"$SEGCAST_BIN" generate --layout marketplace --out "$data" --users 3000 --seed 3 >/dev/null
cfg=$tmp/c.ini
cat >"$cfg" <<INI
[input]
layout = marketplace
path = $data
[run]
checkpoint_seconds = 0
[segment]
k_min = 2
k_max = 4
n_init = 2
silhouette_sample = 500
[forecast]
rounds = 12
max_depth = 4
max_bin = 32
INI

# sc NP LOG CMD ARGS...: segcast under mpirun (bounded); prints the status.
sc() {
  local np=$1 log=$2 cmd=$3 rc=0
  shift 3
  timeout 120 $MPIRUN -np "$np" "$SEGCAST_BIN" "$cmd" --config "$cfg" "$@" >"$log" 2>&1 || rc=$?
  echo "$rc"
}

# snap DIR: a listing of DIR's files (hidden ones too) with their checksums.
snap() { (cd "$1" && find . -type f | sort | xargs -r md5sum); }

# expect_rc WANT GOT LOG WHAT: the status, or the log and a failure.
expect_rc() {
  [ "$2" = "$1" ] || { cat "$3" >&2; fail "$4: status $2, expected $1"; }
}

# expect_line LOG PATTERN WHAT: LOG has a line matching PATTERN (grep -E).
expect_line() { grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "$3: no line matching '$2'"; }; }

# no_litter OUT: neither a staging folder nor a lock beside OUT or in it.
no_litter() {
  local out=$1 name parent
  name=$(basename "$out")
  parent=$(dirname "$out")
  local left
  left=$(ls -A "$parent" | grep -E "^\.$name\.(staging-|lock)" || true)
  left+=$(ls -A "$out" 2>/dev/null | grep -E '^\.segcast\.|\.tmp$' || true)
  [ -z "$left" ] || fail "left behind beside or in $out: $left"
}

# whole OUT: summary.json lists exactly the files of OUT (and is there).
whole() {
  $py - "$1" <<'PY' || fail "$1 is not a whole output folder"
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json")))
files = sorted(f for f in os.listdir(d) if f != "checkpoint.h5")
if sorted(s["outputs"]) != files:
    sys.exit(f"summary.json lists {sorted(s['outputs'])}, the folder holds {files}")
PY
}

# no_procs: no segcast process of this test is left (zombies do not run).
no_procs() {
  local left
  left=$(pgrep -f "$SEGCAST_BIN .*$tmp" || true)
  [ -z "$left" ] || { ps -o pid,stat,args -p $left >&2; fail "segcast processes left running: $left"; }
}
