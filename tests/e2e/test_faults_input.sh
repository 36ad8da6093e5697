#!/usr/bin/env bash
# Missing or unreadable input (issue 17 item 3): each case stops `segcast
# run` with status 3 and one line naming the path and what to check, and
# the output folder keeps the previous run's outputs, with no staging
# folder or lock left. As root nothing is unreadable by permission
# (chmod 000 does not stop root), so the unreadable cases are a folder, a
# FIFO (which must not hang the run) and a path through a plain file:
#   1. input.path that does not exist;
#   2. one file of the layout missing (orders.csv);
#   3. a folder in orders.csv's place;
#   4. a FIFO in users.csv's place;
#   5. input.path through a file (ENOTDIR);
#   6. `segcast segment` alone without a store: status 6, names the store.
set -euo pipefail
. "$SEGCAST_ROOT/tests/e2e/faults_common.sh"
out=$tmp/out
rc=$(sc 2 "$tmp/ok.log" run --set run.out="$out")
expect_rc 0 "$rc" "$tmp/ok.log" "the first run"
before=$(snap "$out")

# case DIR PATTERN WHAT: a run on input DIR fails with status 3 and PATTERN.
case_input() {
  local rc
  rc=$(sc 2 "$tmp/bad.log" run --set run.out="$out" --set input.path="$1")
  expect_rc 3 "$rc" "$tmp/bad.log" "$3"
  expect_line "$tmp/bad.log" "^segcast: error: $2" "$3"
  [ "$(grep -c '^segcast: error' "$tmp/bad.log")" = 1 ] || fail "$3: more than one error line"
  [ "$(snap "$out")" = "$before" ] || fail "$3: the previous outputs changed"
  no_litter "$out"
}

case_input "$tmp/nothere" "$tmp/nothere/users.csv: cannot open \(No such file or directory\): check input.path" \
  "a missing input folder"
cp -r "$data" "$tmp/d2"
rm "$tmp/d2/orders.csv"
case_input "$tmp/d2" "$tmp/d2/orders.csv: cannot open \(No such file or directory\)" "a missing orders.csv"
mkdir "$tmp/d2/orders.csv"
case_input "$tmp/d2" "$tmp/d2/orders.csv: is a folder, not a file: check input.path" "a folder in orders.csv's place"
rm -r "$tmp/d2"
cp -r "$data" "$tmp/d3"
rm "$tmp/d3/users.csv"
mkfifo "$tmp/d3/users.csv"
case_input "$tmp/d3" "$tmp/d3/users.csv: is a FIFO, device or socket, not a file" "a FIFO in users.csv's place"
case_input "$cfg/data" "$cfg/data/users.csv: cannot open \(Not a directory\)" "input.path through a file"

# a stage alone without a store
rc=$(sc 1 "$tmp/seg.log" segment --set run.out="$tmp/empty")
expect_rc 6 "$rc" "$tmp/seg.log" "segment without a store"
expect_line "$tmp/seg.log" "^segcast: error: cannot open HDF5 file $tmp/empty/store.h5: run the step that writes it first" \
  "segment without a store"
no_litter "$tmp/empty"
[ -z "$(ls -A "$tmp/empty")" ] || fail "segment without a store left files in its output folder: $(ls -A "$tmp/empty")"
echo "faults_input: 6 cases passed"
