#!/usr/bin/env bash
# The whole job against the seed-style notebook, same files, same run (issue 15).
#
#   bench/e2e_vs_notebook.sh [USERS]          (default 1000000)
#
# 1. generates a marketplace data set of USERS users (segcast generate, 2
#    ranks) into a temporary folder, or uses E2E_DATA when it holds one;
# 2. runs the notebook pipeline bench/e2e_notebook.py (pandas load and
#    features, scikit-learn k-means k = 4 and the k = 2..10 sweep with
#    silhouette on a 10,000 sample, CH, DB, the pandas demand table, XGBoost
#    1.7 hist 300 rounds depth 8 on 2 threads) under /usr/bin/time;
# 3. runs `segcast run` (configs/default.ini on those files) at 2 ranks x 1
#    thread and at 1 rank x 2 threads, each under /usr/bin/time;
# 4. prints each stage side by side, the whole process's wall seconds and
#    the ratios, peak memory and test R2, and the load (uptime) before and
#    after. Needs the build in build/ (or SEGCAST_BIN), /usr/bin/python3 with
#    pandas, scikit-learn, xgboost and h5py, and mpirun.
# The stages do not map one to one: the notebook's load is set against
# segcast's ingest + insights, its demand table + training against the
# forecast stage (which also writes its outputs); segcast's clv and report
# stages have no counterpart in the notebook and count in its total only.
set -euo pipefail
users=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SEGCAST_BIN:-$root/build/segcast}
work=$(mktemp -d /tmp/segcast-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
# OMP_WAIT_POLICY=passive for both sides: on a machine shared with other
# work, OpenMP threads that spin while they wait (libgomp's default) made
# scikit-learn's sweep, XGBoost and segcast's 1 x 2 run several times slower
# in a trial at 20,000 users.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1 OMPI_MCA_io=romio321 \
  OMPI_MCA_mpi_yield_when_idle=1 OMP_WAIT_POLICY=passive
data=${E2E_DATA:-$work/data}
echo "load before: $(uptime)"
if [ ! -f "$data/orders.csv" ]; then
  mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=1 "$bin" generate --layout marketplace --out "$data" \
    --users "$users" --seed 42 >/dev/null
fi
echo "data: $data ($(du -sm "$data" | cut -f1) MB)"

/usr/bin/time -o "$work/time.nb" -f "%e %M" /usr/bin/python3 "$root/bench/e2e_notebook.py" "$data" --threads 2 \
  --json "$work/nb.json" | sed 's/^/  notebook: /'

# seg LABEL RANKS THREADS: one `segcast run`
seg() {
  local label=$1 np=$2 nt=$3
  local launch=("$bin")
  [ "$np" -gt 1 ] && launch=(mpirun --oversubscribe -np "$np" -x OMP_NUM_THREADS="$nt" -x OMP_WAIT_POLICY "$bin")
  OMP_NUM_THREADS=$nt /usr/bin/time -o "$work/time.$label" -f "%e %M" "${launch[@]}" run \
    --config "$root/configs/default.ini" --set input.path="$data" --set run.out="$work/out.$label" \
    >"$work/log.$label"
  echo "  segcast $label: $(tail -1 "$work/log.$label")"
}
seg 2x1 2 1
seg 1x2 1 2
echo "load after: $(uptime)"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
nb = json.load(open(f"{w}/nb.json"))
t = lambda label: [float(v) for v in open(f"{w}/time.{label}").read().split()]
runs = {}
for label in ("2x1", "1x2"):
    s = json.load(open(f"{w}/out.{label}/summary.json"))
    sec, fc = s["seconds"], s["forecast"]
    wall, rss = t(label)
    runs[label] = {"ingest + insights": sec["ingest"] + sec["insights"], "segment": sec["segment"],
                   "forecast": sec["forecast"], "  demand table": fc["seconds_demand_table"],
                   "  training": fc["seconds_training"],
                   "  the rest": sec["forecast"] - fc["seconds_demand_table"] - fc["seconds_training"],
                   "clv, report": sec["clv"] + sec["report"], "whole process": wall,
                   "_rss": rss, "_r2": fc["r2"]}
ns = nb["seconds"]
nwall, nrss = t("nb")
peer = {"ingest + insights": ns["load"], "segment": ns["segment"], "forecast": ns["demand"] + ns["train"],
        "  demand table": ns["demand"], "  training": ns["train"], "whole process": nwall}
print(f"\n{'stage':<20}{'segcast 2x1 s':>14}{'segcast 1x2 s':>14}{'notebook s':>12}{'ratio 2x1':>10}{'ratio 1x2':>10}")
for k in runs["2x1"]:
    if k.startswith("_"):
        continue
    a, b, p = runs["2x1"][k], runs["1x2"][k], peer.get(k)
    ps = f"{p:12.2f}" if p is not None else f"{'-':>12}"
    ra = f"{p / a:9.1f}x" if p is not None and a > 0 else f"{'':>10}"
    rb = f"{p / b:9.1f}x" if p is not None and b > 0 else f"{'':>10}"
    print(f"{k:<20}{a:14.2f}{b:14.2f}{ps}{ra}{rb}")
print(f"{'peak memory MiB':<20}{runs['2x1']['_rss'] / 1024:14.0f}{runs['1x2']['_rss'] / 1024:14.0f}"
      f"{nrss / 1024:12.0f}   (largest process)")
print(f"{'test R2':<20}{runs['2x1']['_r2']:14.4f}{runs['1x2']['_r2']:14.4f}{nb['r2']:12.4f}"
      f"   (the notebook trains on all {nb['train_rows']} rows before the test window, segcast"
      f" holds out its validation window: docs/forecast.md)")
PY
