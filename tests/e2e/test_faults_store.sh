#!/usr/bin/env bash
# A damaged or old store (issue 17 item 3).
#   1. every chunked dataset of a store written at 1 rank (integer chunks
#      coded by segcast and written with H5Dwrite_chunk, checksum computed
#      by kernels/fletcher32.c) and at 2 ranks (HDF5's collective filter
#      pipeline) has the Fletcher-32 filter, and h5py reads every one back
#      (HDF5 verifies each chunk's checksum on reading);
#   2. one flipped byte in the first chunk of an integer column
#      (/lines/user_id) and of a decimal column (/lines/amount), in both
#      stores: `segcast segment` at 1 and 2 ranks stops with status 6 and
#      one line naming the store and the dataset; the folder's outputs are
#      those of the run before (never a result from damaged data);
#   3. a store of schema version 3 (before the checksums): refused, status
#      6, one line saying to ingest again.
set -euo pipefail
. "$SEGCAST_ROOT/tests/e2e/faults_common.sh"
for np in 1 2; do
  rc=$(sc $np "$tmp/i$np.log" run --set run.out="$tmp/s$np")
  expect_rc 0 "$rc" "$tmp/i$np.log" "the run at $np ranks"
done
$py - "$tmp/s1/store.h5" "$tmp/s2/store.h5" <<'PY' || fail "a store dataset lacks Fletcher-32 or does not read back"
import sys, h5py, numpy as np
for p in sys.argv[1:]:
    f = h5py.File(p, "r")
    seen = []
    def visit(name, o):
        if isinstance(o, h5py.Dataset) and o.chunks:
            if not o.fletcher32:
                sys.exit(f"{p}: {name} has no Fletcher-32 filter")
            o[()]  # every chunk's checksum verified by HDF5
            seen.append(name)
    f.visititems(visit)
    if "lines/user_id" not in seen or "lines/amount" not in seen or len(seen) < 20:
        sys.exit(f"{p}: only {len(seen)} chunked datasets")
    print(f"faults_store: {p}: {len(seen)} chunked datasets, every one with Fletcher-32, read back")
PY

# flip OUT DATASET: one byte in the middle of the dataset's first chunk
flip() {
  $py - "$1/store.h5" "$2" <<'PY'
import sys, h5py
p, name = sys.argv[1:]
with h5py.File(p, "r") as f:
    ci = f[name].id.get_chunk_info(0)
at = ci.byte_offset + ci.size // 2
with open(p, "r+b") as fh:
    fh.seek(at)
    b = fh.read(1)
    fh.seek(at)
    fh.write(bytes([b[0] ^ 0x5A]))
PY
}
for w in 1 2; do
  for ds in lines/user_id lines/amount; do
    out=$tmp/d$w
    rm -rf "$out"
    cp -r "$tmp/s$w" "$out"
    flip "$out" "$ds"
    before=$(snap "$out")
    for np in 1 2; do
      rc=$(sc $np "$tmp/d.log" segment --set run.out="$out" --set run.seed=5)
      expect_rc 6 "$rc" "$tmp/d.log" "a flipped byte in /$ds (store of $w ranks) read at $np"
      expect_line "$tmp/d.log" "^segcast: error: $out/store.h5: dataset /$ds fails its Fletcher-32 checksum: the file is damaged; write it again \(a store: segcast ingest\)$" \
        "a flipped byte in /$ds read at $np"
      [ "$(grep -c '^segcast: error' "$tmp/d.log")" = 1 ] || fail "a flipped byte: more than one error line"
      [ "$(snap "$out")" = "$before" ] || fail "a flipped byte in /$ds: the folder changed"
      no_litter "$out"
    done
  done
done

# an older schema
$py -c "import h5py; f = h5py.File('$tmp/s1/store.h5', 'r+'); f.attrs['schema_version'] = 3"
rc=$(sc 2 "$tmp/v.log" forecast --set run.out="$tmp/s1")
expect_rc 6 "$rc" "$tmp/v.log" "a store of schema version 3"
expect_line "$tmp/v.log" "^segcast: error: $tmp/s1/store.h5 has store schema version 3 but this segcast \(.*\) reads version 4: run segcast ingest again to rebuild it$" \
  "a store of schema version 3"
no_litter "$tmp/s1"
echo "faults_store: passed"
