#!/usr/bin/env bash
# A checkpoint that does not belong to the run (issue 17 item 3). A
# checkpoint is keyed by the configuration and the data (docs/operations.md):
#   1. one of another configuration (run.seed) in the folder: not resumed
#      (a line names the file and says the stage starts from the beginning)
#      and the outputs are those of a run without it, byte for byte;
#   2. one of another data set (other generated users, same configuration):
#      the same;
#   3. one with a flipped byte in a saved array: refused, status 6, one
#      line naming the file and saying to delete it; the folder keeps its
#      outputs;
#   4. a file that is not HDF5 at all: refused, status 6, one line.
# The checkpoints come from `segcast run` stopped by SIGUSR1 at the 3rd
# seeding of the k-means sweep (SEGCAST_TEST_SIGNAL_AT=segment:3).
set -euo pipefail
. "$SEGCAST_ROOT/tests/e2e/faults_common.sh"
seg_files="customer_segments.csv segment_profiles.csv model_selection.csv kmeans_model.json rfm_segments.csv clv.csv"
same_as() {
  local f
  for f in $seg_files; do cmp "$1/$f" "$2/$f" || fail "$f of $2 differs from the run without a foreign checkpoint ($3)"; done
}
# a checkpoint of seed 1 on the generated data
rc=$(SEGCAST_TEST_SIGNAL_AT=segment:3 sc 1 "$tmp/c.log" run --set run.out="$tmp/ck" --set run.seed=1)
expect_rc 75 "$rc" "$tmp/c.log" "the run stopped at segment:3"
[ -e "$tmp/ck/checkpoint.h5" ] || fail "no checkpoint.h5 after the stop"
cp "$tmp/ck/checkpoint.h5" "$tmp/seed1.h5"

# 1. another configuration
rc=$(sc 1 "$tmp/r.log" run --set run.out="$tmp/ref2" --set run.seed=2)
expect_rc 0 "$rc" "$tmp/r.log" "the reference run of seed 2"
mkdir -p "$tmp/o1"
cp "$tmp/seed1.h5" "$tmp/o1/checkpoint.h5"
rc=$(sc 2 "$tmp/o1.log" run --set run.out="$tmp/o1" --set run.seed=2)
expect_rc 0 "$rc" "$tmp/o1.log" "a run beside a checkpoint of another seed"
expect_line "$tmp/o1.log" "checkpoint: $tmp/o1/checkpoint.h5 holds a segment state of another configuration or data set; starting segment from the beginning" \
  "a checkpoint of another seed"
same_as "$tmp/ref2" "$tmp/o1" "another seed"
[ ! -e "$tmp/o1/checkpoint.h5" ] || fail "the finished run left checkpoint.h5"

# 2. another data set, same configuration
"$SEGCAST_BIN" generate --layout marketplace --out "$tmp/data4" --users 3000 --seed 4 >/dev/null
rc=$(sc 1 "$tmp/r4.log" run --set run.out="$tmp/ref4" --set run.seed=1 --set input.path="$tmp/data4")
expect_rc 0 "$rc" "$tmp/r4.log" "the reference run on other data"
mkdir -p "$tmp/o2"
cp "$tmp/seed1.h5" "$tmp/o2/checkpoint.h5"
rc=$(sc 2 "$tmp/o2.log" run --set run.out="$tmp/o2" --set run.seed=1 --set input.path="$tmp/data4")
expect_rc 0 "$rc" "$tmp/o2.log" "a run on other data beside a checkpoint"
expect_line "$tmp/o2.log" "checkpoint: $tmp/o2/checkpoint.h5 holds a segment state of another configuration or data set" \
  "a checkpoint of another data set"
same_as "$tmp/ref4" "$tmp/o2" "another data set"

# 3. a flipped byte in a saved array (plain datasets: no HDF5 checksum; the state's own hash)
cp "$tmp/seed1.h5" "$tmp/ref2/checkpoint.h5"
$py - "$tmp/ref2/checkpoint.h5" <<'PY'
import sys, h5py
p = sys.argv[1]
with h5py.File(p, "r") as f:
    ds = None
    def pick(name, o):
        global ds
        if ds is None and isinstance(o, h5py.Dataset) and name.startswith("segment/a") and o.dtype.kind == "f" and o.size >= 2:
            ds = (name, o.id.get_offset(), o.id.get_storage_size())
    f.visititems(pick)
name, off, size = ds
with open(p, "r+b") as fh:
    fh.seek(off + size // 2)
    b = fh.read(1)
    fh.seek(off + size // 2)
    fh.write(bytes([b[0] ^ 0x10]))
PY
before=$(snap "$tmp/ref2")
rc=$(sc 1 "$tmp/d.log" run --set run.out="$tmp/ref2" --set run.seed=1)
expect_rc 6 "$rc" "$tmp/d.log" "a damaged checkpoint"
expect_line "$tmp/d.log" "^segcast: error: checkpoint $tmp/ref2/checkpoint.h5: stage segment does not match its checksum; delete the file to start over$" \
  "a damaged checkpoint"
[ "$(snap "$tmp/ref2")" = "$before" ] || fail "a damaged checkpoint: the folder changed"
no_litter "$tmp/ref2"

# 4. not HDF5
head -c 4096 /dev/urandom >"$tmp/ref2/checkpoint.h5"
rc=$(sc 2 "$tmp/n.log" run --set run.out="$tmp/ref2" --set run.seed=1)
expect_rc 6 "$rc" "$tmp/n.log" "a checkpoint that is not HDF5"
expect_line "$tmp/n.log" "^segcast: error: checkpoint $tmp/ref2/checkpoint.h5 cannot be read \(damaged, or not an HDF5 file\): delete it to start over" \
  "a checkpoint that is not HDF5"
no_litter "$tmp/ref2"
echo "faults_checkpoint: passed"
