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
# 4. the same with the files in time order, as real exports come (orders,
#    clicks and delivery sorted by their time column; the generator writes
#    each user's rows together, the easy case for the join and the sort by
#    user), against pandas' read_csv of those files,
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
# the time-ordered copy: orders, clicks and delivery sorted by their time
# column (stable, so ties keep the generator's order); the other files linked
tdata="$work/data-time"
if [ ! -f "$tdata/orders.csv" ]; then
  mkdir -p "$tdata"
  for f in "$data"/*.csv; do ln -sf "$f" "$tdata/"; done
  for spec in orders.csv:4 clicks.csv:3 delivery.csv:2; do
    f=${spec%:*} k=${spec#*:}
    rm -f "$tdata/$f"
    { head -1 "$data/$f"; tail -n +2 "$data/$f" | LC_ALL=C sort -s -t, -k"$k,$k" -S 1G; } > "$tdata/$f"
  done
fi

pandas=$(/usr/bin/python3 - "$data" "$tdata" <<'PY'
import sys, time, glob, os
import pandas as pd
dates = {"users.csv": ["created_at"], "orders.csv": ["order_time"], "delivery.csv": ["ship_time", "arr_time"],
         "clicks.csv": ["ts"], "inventory.csv": ["date"]}
def timed(folder, **kw):
    t = time.time()
    for f in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        pd.read_csv(f, parse_dates=dates.get(os.path.basename(f), False) if kw.get("dates") else False)
    return time.time() - t
plain = timed(sys.argv[1])
typed = timed(sys.argv[1], dates=True)
in_time = timed(sys.argv[2])
print(f"{plain:.3f} {typed:.3f} {in_time:.3f}")
PY
)
read -r pd_s pd_dates_s pd_time_s <<< "$pandas"

# segcast, RUNS times on a folder (the machine's noise is large): the best
# run counts, every run is printed; sets best, parse, peak and keeps the best
# run's summary as $work/best-summary.$2.json
runs=${RUNS:-3}
ingest_runs() {
  local dir=$1 tag=$2 i s p k
  best="" parse="" peak=0
  for i in $(seq "$runs"); do
    rm -rf "$work/out" "$work"/rss.*
    # each rank's peak memory goes to its own file (on the shared log, two
    # ranks' lines could run together and lose the figure)
    "${mpi[@]}" sh -c 'exec /usr/bin/time -o "$0.$OMPI_COMM_WORLD_RANK" -f "%M" "$@"' "$work/rss" "$bin" ingest \
      --set input.layout=marketplace --set input.path="$dir" --set run.out="$work/out" > "$work/ingest.log" 2>&1
    s=$(/usr/bin/python3 -c "import json;print(json.load(open('$work/out/summary.json'))['seconds']['ingest'])")
    # parse + clean: the per-file read times of the progress lines
    p=$(grep -o 'MB in [0-9.]* s' "$work/ingest.log" | awk '{ t += $3 } END { print t }')
    k=$(cat "$work"/rss.* | awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
    [ "$(ls "$work"/rss.* | wc -l)" = "$ranks" ] || { echo "bench: missing peak memory of some rank" >&2; exit 1; }
    echo "$tag run $i: ingest $s s (parse + clean $p s), peak memory per rank $((k / 1024)) MiB"
    if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then
      best=$s parse=$p
      cp "$work/out/summary.json" "$work/best-summary.$tag.json"
    fi
    if [ "$k" -gt "$peak" ]; then peak=$k; fi
  done
}
ingest_runs "$tdata" time
best_time=$best peak_time=$peak
ingest_runs "$data" generated
share=$(awk "BEGIN { printf \"%d\", $bytes / $ranks / 1024 }")
if [ "$peak_time" -gt "$peak" ]; then peak=$peak_time; fi
/usr/bin/python3 - "$bytes" "$pd_s" "$pd_dates_s" "$best" "$parse" "$gen" "$ranks" "$peak" "$share" "$users" \
  "$work/best-summary.generated.json" "$pd_time_s" "$best_time" "$work/best-summary.time.json" <<'PY'
import json, sys
b, pd_s, pdd_s, sc_s, parse, gen, ranks, peak, share, users, best_summary, pdt_s, sct_s, time_summary = sys.argv[1:]
b = int(b); pd_s = float(pd_s); pdd_s = float(pdd_s); sc_s = float(sc_s); parse = float(parse); gen = float(gen)
pdt_s = float(pdt_s); sct_s = float(sct_s)
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
print("the same files in time order (orders, clicks, delivery sorted by time):")
print(f"{'pandas read_csv (all files)':42}{pdt_s:9.2f}{mb / pdt_s:8.0f}{mb / pdt_s:11.0f}{pdt_s / pdt_s:10.1f}x")
print(f"{'segcast ingest (parse, partition, store)':42}{sct_s:9.2f}{mb / sct_s:8.0f}{mb / sct_s / ranks:11.0f}{pdt_s / sct_s:10.1f}x")
print(f"generate {gen:.2f} s + ingest {sc_s:.2f} s = {gen + sc_s:.2f} s")
print(f"peak memory per rank {int(peak) / 1024:.0f} MiB; share of the input per rank {int(share) / 1024:.0f} MiB; "
      f"ratio {int(peak) / int(share):.2f}")
# where the best run's time went (summary.json seconds_steps.ingest, rank 0's clock)
steps = json.load(open(best_summary)).get("seconds_steps", {}).get("ingest", {})
steps_t = json.load(open(time_summary)).get("seconds_steps", {}).get("ingest", {})
if steps:
    print(f"the best runs' steps:{'as generated':>31}{'time order':>12}")
    for name, t in steps.items():
        print(f"  {name:40}{t:9.3f} s{steps_t.get(name, float('nan')):10.3f} s")
PY
echo "log of the last run: $work/ingest.log"
