#!/usr/bin/env bash
# Ingest against pandas, same files, same run (issue 2, Performance).
#
#   bench/ingest_vs_pandas.sh [USERS] [RANKS]      (defaults: 1000000 2)
#
# 1. generates the marketplace data set of USERS users at RANKS ranks (timed),
# 2. times pandas' read_csv of every file (the peer: what a notebook does first),
#    as it comes and with the date columns parsed,
# 3. times `segcast ingest` at RANKS ranks (parse, clean, partition, store)
#    RUNS times (default 3; the best counts), with each rank's peak memory
#    (/usr/bin/time) next to its share of the input,
# and prints the figures side by side with the ratios, then the best run's
# steps (summary.json "seconds_steps"). Needs the build in build/.
set -euo pipefail
users=${1:-1000000}
ranks=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SEGCAST_BIN:-$root/build/segcast}
work=${BENCH_DIR:-$(mktemp -d /tmp/segcast-bench.XXXXXX)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1 OMPI_MCA_io=romio321 OMPI_MCA_mpi_yield_when_idle=1
mpi=(mpirun --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS=1)
data="$work/data"
t0=$(date +%s.%N)
[ -f "$data/orders.csv" ] || "${mpi[@]}" "$bin" generate --layout marketplace --out "$data" --users "$users" --seed 42 > /dev/null
t1=$(date +%s.%N)
gen=$(awk "BEGIN { print $t1 - $t0 }")
bytes=$(cat "$data"/*.csv | wc -c)

# the peer, twice: read_csv as it comes (dates stay text), and read_csv
# with the date columns parsed (what segcast's store holds: typed days)
pandas=$(/usr/bin/python3 - "$data" <<'PY'
import sys, time, glob, os
import pandas as pd
dates = {"users.csv": ["created_at"], "orders.csv": ["order_time"], "delivery.csv": ["ship_time", "arr_time"],
         "clicks.csv": ["ts"], "inventory.csv": ["date"]}
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.csv")))
t = time.time()
for f in files:
    pd.read_csv(f)
plain = time.time() - t
t = time.time()
for f in files:
    pd.read_csv(f, parse_dates=dates.get(os.path.basename(f), False))
typed = time.time() - t
print(f"{plain:.3f} {typed:.3f}")
PY
)
pd_s=${pandas% *}
pd_dates_s=${pandas#* }

# segcast, RUNS times (the machine's noise is large): the best run counts,
# every run is printed
runs=${RUNS:-3}
best="" peak=0 parse=""
for i in $(seq "$runs"); do
  rm -rf "$work/out" "$work"/rss.*
  # each rank's peak memory goes to its own file (on the shared log, two
  # ranks' lines could run together and lose the figure)
  "${mpi[@]}" sh -c 'exec /usr/bin/time -o "$0.$OMPI_COMM_WORLD_RANK" -f "%M" "$@"' "$work/rss" "$bin" ingest \
    --set input.layout=marketplace --set input.path="$data" --set run.out="$work/out" > "$work/ingest.log" 2>&1
  s=$(/usr/bin/python3 -c "import json;print(json.load(open('$work/out/summary.json'))['seconds']['ingest'])")
  # parse + clean: the per-file read times of the progress lines
  p=$(grep -o 'MB in [0-9.]* s' "$work/ingest.log" | awk '{ t += $3 } END { print t }')
  k=$(cat "$work"/rss.* | awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
  [ "$(ls "$work"/rss.* | wc -l)" = "$ranks" ] || { echo "bench: missing peak memory of some rank" >&2; exit 1; }
  echo "run $i: ingest $s s (parse + clean $p s), peak memory per rank $((k / 1024)) MiB"
  if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then
    best=$s parse=$p
    cp "$work/out/summary.json" "$work/best-summary.json"
  fi
  if [ "$k" -gt "$peak" ]; then peak=$k; fi
done
share=$(awk "BEGIN { printf \"%d\", $bytes / $ranks / 1024 }")
/usr/bin/python3 - "$bytes" "$pd_s" "$pd_dates_s" "$best" "$parse" "$gen" "$ranks" "$peak" "$share" "$users" \
  "$work/best-summary.json" <<'PY'
import json, sys
b, pd_s, pdd_s, sc_s, parse, gen, ranks, peak, share, users, best_summary = sys.argv[1:]
b = int(b); pd_s = float(pd_s); pdd_s = float(pdd_s); sc_s = float(sc_s); parse = float(parse); gen = float(gen)
ranks = int(ranks)
mb = b / 1e6
print(f"data set: {users} users, {mb:.0f} MB of CSV; {ranks} rank(s) on this machine")
print(f"{'':42}{'seconds':>9}{'MB/s':>8}{'MB/s/core':>11}{'vs pandas':>11}{'vs pandas+dates':>17}")
def row(name, t, cores):
    print(f"{name:42}{t:9.2f}{mb / t:8.0f}{mb / t / cores:11.0f}{pd_s / t:10.1f}x{pdd_s / t:16.1f}x")
row("pandas read_csv (all files)", pd_s, 1)
row("pandas read_csv, dates parsed", pdd_s, 1)
row("segcast parse + clean (all files)", parse, ranks)
row("segcast ingest (parse, partition, store)", sc_s, ranks)
print(f"generate {gen:.2f} s + ingest {sc_s:.2f} s = {gen + sc_s:.2f} s")
print(f"peak memory per rank {int(peak) / 1024:.0f} MiB; share of the input per rank {int(share) / 1024:.0f} MiB; "
      f"ratio {int(peak) / int(share):.2f}")
# where the best run's time went (summary.json seconds_steps.ingest, rank 0's clock)
steps = json.load(open(best_summary)).get("seconds_steps", {}).get("ingest", {})
if steps:
    print("the best run's steps:")
    for name, t in steps.items():
        print(f"  {name:40}{t:9.3f} s")
PY
echo "log of the last run: $work/ingest.log"
