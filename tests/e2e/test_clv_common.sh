# test_clv_common.sh: what the lifetime-value tests share (sourced, not a test).
#
#   clv_same REF OUT   every clv output of OUT equals REF's: clv.csv and the
#                      small CSVs byte for byte (those REF has), summary.json's
#                      clv block less its timings, results.h5's /clv value
#                      for value; fails naming the first that differs.
clv_same() {
  local f
  for f in clv.csv clv_p_alive.csv clv_lorenz.csv clv_calibration.csv clv_tracking.csv; do
    [ -e "$1/$f" ] || [ -e "$2/$f" ] || continue # (no holdout: no calibration or tracking)
    cmp "$1/$f" "$2/$f" || { echo "FAIL: $f of $2 differs from $1" >&2; exit 1; }
  done
  /usr/bin/python3 - "$1" "$2" <<'EOF' || { echo "FAIL: summary.json clv or results.h5 /clv of $2 differs from $1" >&2; exit 1; }
import json, sys, h5py, numpy as np
a, b = sys.argv[1:3]
sa, sb = (json.load(open(p + "/summary.json"))["clv"] for p in (a, b))
for s in (sa, sb):
    s.pop("seconds")
    s["bgnbd"].pop("seconds"); s["gamma_gamma"].pop("seconds")
assert sa == sb, (sa, sb)
fa, fb = h5py.File(a + "/results.h5", "r"), h5py.File(b + "/results.h5", "r")
bad = []
def walk(name, obj):
    if isinstance(obj, h5py.Dataset):
        x, y = obj[()], fb["clv/" + name][()]
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            bad.append(name)
fa["clv"].visititems(walk)
assert not bad, bad
EOF
}
