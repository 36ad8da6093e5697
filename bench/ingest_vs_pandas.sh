#!/usr/bin/env bash
# Ingest against pandas, same files, same run (issue 2, Performance).
#
#   bench/ingest_vs_pandas.sh [USERS] [RANKS]      (defaults: 1000000 2)
#
# 1. generates the marketplace data set of USERS users at RANKS ranks (timed),
# 2. times pandas' read_csv of every file (the peer: what a notebook does first),
# 3. times `segcast ingest` at RANKS ranks (parse, clean, partition, store),
#    with each rank's peak memory (/usr/bin/time) next to its share of the input,
# and prints the figures side by side with the ratios. Needs the build in build/.
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

pandas=$(/usr/bin/python3 - "$data" <<'PY'
import sys, time, glob, os
import pandas as pd
t = time.time()
rows = 0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.csv"))):
    rows += len(pd.read_csv(f))
print(f"{time.time() - t:.3f} {rows}")
PY
)
pd_s=${pandas% *}

rm -rf "$work/out"
"${mpi[@]}" /usr/bin/time -f "peak_rss_kb %M" "$bin" ingest --set input.layout=marketplace \
  --set input.path="$data" --set run.out="$work/out" > "$work/ingest.log" 2>&1
sc_s=$(/usr/bin/python3 -c "import json;print(json.load(open('$work/out/summary.json'))['seconds']['ingest'])")
peak=$(grep -o 'peak_rss_kb [0-9]*' "$work/ingest.log" | awk '{ if ($2 > m) m = $2 } END { print m }')
share=$(awk "BEGIN { printf \"%d\", $bytes / $ranks / 1024 }")
/usr/bin/python3 - "$bytes" "$pd_s" "$sc_s" "$gen" "$ranks" "$peak" "$share" "$users" <<'PY'
import sys
b, pd_s, sc_s, gen, ranks, peak, share, users = sys.argv[1:]
b = int(b); pd_s = float(pd_s); sc_s = float(sc_s); gen = float(gen); ranks = int(ranks)
mb = b / 1e6
print(f"data set: {users} users, {mb:.0f} MB of CSV; {ranks} rank(s) on this machine")
print(f"{'':34}{'seconds':>10}{'MB/s':>10}{'MB/s/core':>11}")
print(f"{'pandas read_csv (all files)':34}{pd_s:10.2f}{mb / pd_s:10.0f}{mb / pd_s:11.0f}")
print(f"{'segcast ingest (parse+store)':34}{sc_s:10.2f}{mb / sc_s:10.0f}{mb / sc_s / ranks:11.0f}")
print(f"speed-up over pandas: {pd_s / sc_s:.1f}x")
print(f"generate {gen:.2f} s + ingest {sc_s:.2f} s = {gen + sc_s:.2f} s")
print(f"peak memory per rank {int(peak) / 1024:.0f} MiB; share of the input per rank {int(share) / 1024:.0f} MiB; "
      f"ratio {int(peak) / int(share):.2f}")
PY
echo "log: $work/ingest.log"
