#!/usr/bin/env bash
# The output folder (issue 17 items 2 and 3): unwritable, full, locked,
# left behind by killed runs, and published as a whole or merged.
#   1. run.out through a plain file: status 4, one line naming the folder;
#   2. a read-only file system (a tmpfs mounted ro): status 4, one line;
#   3. a full file system (a tmpfs of 1.5 times one run's outputs, which
#      holds them but not a second copy in staging), at 2 ranks (a parallel HDF5 write
#      fails part-way: the job must stop, not hang) and at 1: status 4, one
#      line about room on the disk, the previous outputs unchanged, no
#      staging folder, lock or process left. Without the right to mount
#      (an unprivileged container) the full disk is a file-size limit
#      instead (ulimit -f; segcast ignores SIGXFSZ, so writes fail with
#      EFBIG), at 1 rank without mpirun (under mpirun the limit stops
#      MPI_Init), and the 2-rank case and case 2 are said to be skipped (SEGCAST_FAULTS_NO_MOUNT=1 takes that
#      path where mount works);
#   4. the lock: held by a live segcast on this host (refused, one line
#      naming the lock file, host and pid; the lock is kept), by a dead pid
#      (taken over with a warning), by another host (refused);
#   5. a dead run's staging folder is removed by the next run;
#   6. a run killed in the middle of its publish (SIGKILL after 5 moves):
#      the folder has no summary.json, and the next command into it
#      finishes the publish: the outputs are those of the killed run;
#   7. `segcast run` replaces the folder's outputs as a whole (forecast
#      off: the forecast files go); a stage alone merges (segment: its
#      files change, the others stay);
#   8. a run.store elsewhere is published with the outputs, and a run that
#      stops leaves the previous store and no temporary beside it.
set -euo pipefail
. "$SEGCAST_ROOT/tests/e2e/faults_common.sh"
host=$(hostname)

# 1. through a file
rc=$(sc 2 "$tmp/f.log" run --set run.out="$cfg/out")
expect_rc 4 "$rc" "$tmp/f.log" "run.out through a file"
expect_line "$tmp/f.log" "^segcast: error: cannot create folder $cfg/out: Not a directory" "run.out through a file"

# 2-3. read-only and full file systems
mnt=$tmp/mnt
mkdir -p "$mnt"
# the tmpfs holds 1.5 runs' outputs, measured here: a fixed size went
# stale when the outputs shrank (issue 15 dropped the store's demand table)
rc=$(sc 1 "$tmp/size.log" run --set run.out="$tmp/size")
expect_rc 0 "$rc" "$tmp/size.log" "the run that sizes the tmpfs"
room_kb=$(($(du -sk "$tmp/size" | cut -f1) * 3 / 2))
rm -rf "$tmp/size"
if [ -z "${SEGCAST_FAULTS_NO_MOUNT:-}" ] && mount -t tmpfs -o size=${room_kb}k segcast-faults "$mnt" 2>/dev/null; then
  cleanup_hooks+=("umount '$mnt'")
  method=tmpfs
else
  method=ulimit
fi
for np in 2 1; do
  out=$mnt/out$np
  rc=$(sc "$np" "$tmp/full.log" run --set run.out="$out")
  expect_rc 0 "$rc" "$tmp/full.log" "the first run into $out"
  before=$(snap "$out")
  t0=$(date +%s)
  if [ $method = tmpfs ]; then
    rc=$(sc "$np" "$tmp/full.log" run --set run.out="$out" --set run.seed=3)
  else
    # a file-size limit under mpirun stops MPI_Init itself (its shared
    # memory files): the limited run is segcast alone, at 1 rank
    [ "$np" = 1 ] || { echo "faults_output: a full disk at 2 ranks skipped: this container cannot mount a tmpfs"; rm -rf "$out"; continue; }
    rc=0
    (ulimit -f 4096; timeout 120 "$SEGCAST_BIN" run --config "$cfg" --set run.out="$out" --set run.seed=3) >"$tmp/full.log" 2>&1 || rc=$?
  fi
  [ $(($(date +%s) - t0)) -lt 60 ] || fail "a full disk at $np ranks took over 60 s to stop the run"
  expect_rc 4 "$rc" "$tmp/full.log" "a full disk ($method) at $np ranks"
  expect_line "$tmp/full.log" "^segcast: error: .*(disk has room|free disk space|No space left|File too large)" \
    "a full disk at $np ranks"
  [ "$(grep -c '^segcast: error' "$tmp/full.log")" = 1 ] || { cat "$tmp/full.log" >&2; fail "full disk: more than one error line"; }
  [ "$(snap "$out")" = "$before" ] || fail "a full disk at $np ranks changed the previous outputs"
  no_litter "$out"
  no_procs
  whole "$out"
  [ "$np" = 1 ] || rm -rf "$out" # room for the next case
done
if [ $method = tmpfs ]; then
  mount -o remount,ro "$mnt"
  rc=$(sc 1 "$tmp/ro.log" run --set run.out="$mnt/out1" --set run.seed=3)
  expect_rc 4 "$rc" "$tmp/ro.log" "a read-only file system"
  expect_line "$tmp/ro.log" "^segcast: error: cannot write the lock file $mnt/out1/.segcast.lock: Read-only file system" \
    "a read-only file system"
  umount "$mnt"
  cleanup_hooks=()
else
  echo "faults_output: case 2 (read-only file system) skipped: this container cannot mount a tmpfs"
fi

# 4. the lock
out=$tmp/out
rc=$(sc 1 "$tmp/a.log" run --set run.out="$out")
expect_rc 0 "$rc" "$tmp/a.log" "a run into $out"
mkdir -p "$tmp/bin"
cp /bin/sleep "$tmp/bin/segcast" # a live process named segcast
"$tmp/bin/segcast" 60 &
holder=$!
cleanup_hooks+=("kill $holder 2>/dev/null")
echo "$host $holder" >"$tmp/.out.lock"
before=$(snap "$out")
rc=$(sc 1 "$tmp/l.log" report --set run.out="$out")
expect_rc 4 "$rc" "$tmp/l.log" "a locked folder"
expect_line "$tmp/l.log" "^segcast: error: output folder $out is in use by another segcast run \(lock file $tmp/.out.lock: host $host, pid $holder\); wait for it to end, or delete the lock file if that run is gone$" \
  "a locked folder"
[ "$(cat "$tmp/.out.lock")" = "$host $holder" ] || fail "the refused run touched the holder's lock"
[ "$(snap "$out")" = "$before" ] || fail "the refused run changed the outputs"
kill $holder
wait $holder 2>/dev/null || true
rc=$(sc 1 "$tmp/l.log" report --set run.out="$out")
expect_rc 0 "$rc" "$tmp/l.log" "a stale lock"
expect_line "$tmp/l.log" "output: warning: taking over the lock $tmp/.out.lock of segcast pid $holder on $host, which is no longer running" \
  "a stale lock"
no_litter "$out"
echo "elsewhere 4242" >"$tmp/.out.lock"
rc=$(sc 1 "$tmp/l.log" report --set run.out="$out")
expect_rc 4 "$rc" "$tmp/l.log" "a lock of another host"
expect_line "$tmp/l.log" "^segcast: error: output folder $out is in use by another segcast run \(lock file $tmp/.out.lock: host elsewhere, pid 4242, another host\)" \
  "a lock of another host"
rm "$tmp/.out.lock"

# 5. a dead run's staging folder
mkdir "$tmp/.out.staging-$host-$holder"
echo partial >"$tmp/.out.staging-$host-$holder/forecast.csv"
rc=$(sc 1 "$tmp/s.log" report --set run.out="$out")
expect_rc 0 "$rc" "$tmp/s.log" "a dead run's staging folder"
expect_line "$tmp/s.log" "output: removing $tmp/.out.staging-$host-$holder, the staging folder of a run that is no longer running" \
  "a dead run's staging folder"
no_litter "$out"
whole "$out"

# 6. killed in the middle of its publish
rc=$(sc 1 "$tmp/ref.log" run --set run.out="$tmp/ref" --set run.seed=5)
expect_rc 0 "$rc" "$tmp/ref.log" "the reference run"
rc=$(SEGCAST_TEST_SIGNAL=KILL SEGCAST_TEST_SIGNAL_AT=publish:5 sc 1 "$tmp/p.log" run --set run.out="$out" --set run.seed=5)
[ "$rc" != 0 ] || fail "the run killed during its publish exited 0"
[ ! -e "$out/summary.json" ] || fail "a half-published folder still has a summary.json"
rc=$(sc 1 "$tmp/p2.log" report --set run.out="$out")
expect_rc 0 "$rc" "$tmp/p2.log" "the command after an interrupted publish"
expect_line "$tmp/p2.log" "output: finished the publish of an interrupted run \($host, pid [0-9]+\) into $out" \
  "the command after an interrupted publish"
no_litter "$out"
whole "$out"
for f in "$tmp"/ref/*.csv "$tmp"/ref/*.json; do
  b=$(basename "$f")
  [ "$b" = summary.json ] || cmp "$f" "$out/$b" || fail "$b after the finished publish differs from the run that was killed"
done

# 7. whole and merged
rc=$(sc 1 "$tmp/w.log" run --set run.out="$out" --set forecast.enabled=false)
expect_rc 0 "$rc" "$tmp/w.log" "a run without forecast"
for f in forecast.csv gbdt_model.json feature_importance.csv; do
  [ ! -e "$out/$f" ] || fail "$f of the previous run kept beside a run without forecast"
done
whole "$out"
cp -r "$out" "$tmp/prev"
rc=$(sc 1 "$tmp/m.log" segment --set run.out="$out" --set forecast.enabled=false --set run.seed=11 --set segment.k_min=3)
expect_rc 0 "$rc" "$tmp/m.log" "segment alone"
cmp -s "$tmp/prev/model_selection.csv" "$out/model_selection.csv" && fail "segment alone did not replace model_selection.csv"
for f in clv.csv monthly_revenue.csv daily_sales.csv report.html rejects.csv store.h5; do
  cmp "$tmp/prev/$f" "$out/$f" || fail "segment alone changed $f"
done
whole "$out"
# 8. a run.store elsewhere: published beside itself with the outputs; a
#    run that stops keeps the previous store and leaves no temporary there
st=$tmp/shared/store.h5
rc=$(sc 2 "$tmp/e.log" run --set run.out="$tmp/ext" --set run.store="$st")
expect_rc 0 "$rc" "$tmp/e.log" "a run with run.store elsewhere"
[ -s "$st" ] && [ ! -e "$tmp/ext/store.h5" ] || fail "run.store elsewhere: the store is not at $st alone"
whole "$tmp/ext"
sum=$(md5sum <"$st")
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:1 sc 2 "$tmp/e2.log" run --set run.out="$tmp/ext" --set run.store="$st" --set run.seed=8)
expect_rc 75 "$rc" "$tmp/e2.log" "a stopped run with run.store elsewhere"
[ "$(md5sum <"$st")" = "$sum" ] || fail "a stopped run replaced the store at $st"
[ -z "$(ls -A "$tmp/shared" | grep -v '^store.h5$')" ] || fail "left beside $st: $(ls -A "$tmp/shared")"
no_litter "$tmp/ext"
echo "faults_output: passed (full disk by $method)"
