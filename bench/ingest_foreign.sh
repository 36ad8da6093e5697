#!/usr/bin/env bash
# The ingest on foreign files against the project's own generator's, same
# run, alternating (issue 15).
#
#   bench/ingest_foreign.sh [USERS] [RUNS]        (defaults: 1000000 3)
#
# OWN (default: $BENCH_DIR/own, written by `segcast generate --users USERS
# --seed 42` when missing; /tmp/wt15-data is such a set) and FOREIGN (default
# $BENCH_DIR/foreign, written by bench/gen_independent.py --users USERS
# --seed 1 when missing: time-ordered exports, sparse ids, quoted commas)
# are ingested RUNS times each, one after the other, at 2 ranks x 1 thread
# and at 1 rank x 2 threads (SPLITS, default "2x1 1x2"). Prints, per split,
# each set's best total and best steps (summary.json seconds_steps.ingest)
# side by side, and the ratio of the totals as they are, per MB of CSV and
# per data row. BASELINE_BIN (optional): another build, timed the same way
# in the same run (its rows are marked "base"). The load (uptime) is printed
# before and after.
set -euo pipefail
users=${1:-1000000}
runs=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SEGCAST_BIN:-$root/build/segcast}
work=${BENCH_DIR:-/tmp/segcast-bench-foreign}
own=${OWN:-$work/own}
foreign=${FOREIGN:-$work/foreign}
splits=${SPLITS:-2x1 1x2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1 OMPI_MCA_io=romio321 OMPI_MCA_mpi_yield_when_idle=1
mkdir -p "$work"
[ -f "$own/orders.csv" ] || mpirun --oversubscribe -np 2 "$bin" generate --layout marketplace --out "$own" --users "$users" --seed 42 > /dev/null
[ -f "$foreign/orders.csv" ] || /usr/bin/python3 "$root/bench/gen_independent.py" --out "$foreign" --users "$users" --seed 1
cat "$own"/*.csv "$foreign"/*.csv > /dev/null # both in the page cache
bins=("new:$bin")
[ -n "${BASELINE_BIN:-}" ] && bins+=("base:$BASELINE_BIN")
echo "load before: $(uptime)"
res="$work/results.jsonl"
: > "$res"
for split in $splits; do
  ranks=${split%x*} threads=${split#*x}
  for ((k = 0; k < runs; k++)); do
    for b in "${bins[@]}"; do
      for set in own foreign; do
        d=$own; [ "$set" = foreign ] && d=$foreign
        out="$work/out-$set"
        mpirun --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS="$threads" "${b#*:}" ingest \
          --set input.layout=marketplace --set input.path="$d" --set run.out="$out" > "$work/log" 2>&1 ||
          { cat "$work/log"; exit 1; }
        /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(json.dumps({"split": sys.argv[2], "bin": sys.argv[3], "set": sys.argv[4], "total": s["seconds"]["ingest"], "steps": s["seconds_steps"]["ingest"], "bytes": sum(f["bytes"] for f in s["input"]["files"].values()), "rows": sum(f["read"] for f in s["input"]["files"].values())}))' \
          "$out/summary.json" "$split" "${b%%:*}" "$set" >> "$res"
      done
    done
  done
done
echo "load after:  $(uptime)"
/usr/bin/python3 - "$res" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
for split in dict.fromkeys(r["split"] for r in rs):
    for b in dict.fromkeys(r["bin"] for r in rs):
        best = {}
        for set_ in ("own", "foreign"):
            c = [r for r in rs if r["split"] == split and r["bin"] == b and r["set"] == set_]
            best[set_] = min(c, key=lambda r: r["total"])
            best[set_]["all"] = sorted(r["total"] for r in c)
        o, f = best["own"], best["foreign"]
        print(f"\n{split} (ranks x threads), build {b}: best of {len(o['all'])} runs")
        print(f"{'step':36s} {'own':>8s} {'foreign':>8s} {'ratio':>6s}")
        for k in dict.fromkeys(list(o["steps"]) + list(f["steps"])):
            a, c = o["steps"].get(k, 0), f["steps"].get(k, 0)
            print(f"{k:36s} {a:8.3f} {c:8.3f} {c / a if a > 0 else float('nan'):6.2f}")
        print(f"{'total':36s} {o['total']:8.3f} {f['total']:8.3f} {f['total'] / o['total']:6.2f}")
        print(f"  all runs: own {o['all']}, foreign {f['all']}")
        print(f"  own {o['bytes'] / 1e6:.0f} MB, {o['rows']} rows; foreign {f['bytes'] / 1e6:.0f} MB, {f['rows']} rows")
        print(f"  ratio per MB  {(f['total'] / f['bytes']) / (o['total'] / o['bytes']):.2f}")
        print(f"  ratio per row {(f['total'] / f['rows']) / (o['total'] / o['rows']):.2f}")
PY
