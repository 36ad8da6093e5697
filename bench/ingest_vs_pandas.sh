#!/usr/bin/env bash
# Ingest against pandas, same files, same run (issue 2, Performance).
#
#   bench/ingest_vs_pandas.sh [USERS] [RANKS]      (defaults: 1000000 2)
#
# 1. generates the marketplace data set of USERS users at RANKS ranks (timed),
# 2. times pandas' read_csv of every file (the peer: what a notebook does first),
#    as it comes PANDAS_RUNS times (default 3: its best and median, which
#    segcast's best and median are set against) and once with the date
#    columns parsed,
# 3. times `segcast ingest` at RANKS ranks (parse, clean, partition, store)
#    RUNS times (default 3; the best and the median shown), with each rank's peak memory
#    (/usr/bin/time) next to its share of the input,
# 4. the same with the files in time order, as real exports come (orders,
#    clicks and delivery sorted by their time column; the generator writes
#    each user's rows together, the easy case for the join and the sort by
#    user), against pandas' read_csv of those files,
# 5. `segcast ingest` as one rank with RANKS OpenMP threads (threads within
#    a rank, as the Slurm jobs also use them),
# 6. the build of BASELINE_REF (default 18adb43, the last build with the
#    quote-parity reader, issue 14), built once into $BENCH_DIR/baseline
#    from this repository's history (or BASELINE_BIN), timed the same way on
#    the same files in the same run, at RANKS ranks and at 1 rank x RANKS
#    threads, so the new reader's cost is a ratio measured side by side,
# 7. `segcast ingest` on a copy of the files with DAMAGE (default 0.001) of
#    their lines damaged as real exports are (tests/e2e/damage_csv.py),
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

pandas=$(/usr/bin/python3 - "$data" "$tdata" "${PANDAS_RUNS:-3}" <<'PY'
import sys, time, glob, os
import pandas as pd
dates = {"users.csv": ["created_at"], "orders.csv": ["order_time"], "delivery.csv": ["ship_time", "arr_time"],
         "clicks.csv": ["ts"], "inventory.csv": ["date"]}
def timed(folder, **kw):
    t = time.time()
    for f in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        pd.read_csv(f, parse_dates=dates.get(os.path.basename(f), False) if kw.get("dates") else False)
    return time.time() - t
# the peer's own spread is large here (12-15 s between runs): read_csv as it
# comes is timed PANDAS_RUNS times, and segcast's best and median meet
# pandas' best and median
plain = sorted(timed(sys.argv[1]) for _ in range(int(sys.argv[3])))
typed = timed(sys.argv[1], dates=True)
in_time = timed(sys.argv[2])
print(f"{plain[0]:.3f} {plain[len(plain) // 2]:.3f} {typed:.3f} {in_time:.3f}")
PY
)
read -r pd_best_s pd_s pd_dates_s pd_time_s <<< "$pandas"

# segcast, RUNS times on a folder at NP ranks x THREADS threads (the
# machine's noise is large): every run is printed; the best and the median
# count; its times go to $work/times.TAG, the best run's summary to
# $work/best-summary.TAG.json, its parse + clean time and the peak memory
# per rank to $work/stats.TAG
runs=${RUNS:-3}
ingest_runs() {
  local dir=$1 tag=$2 np=$3 threads=$4 bin=${5:-$bin} i s p k best="" parse="" peak=0
  : > "$work/times.$tag"
  for i in $(seq "$runs"); do
    rm -rf "$work/out" "$work"/rss.*
    # each rank's peak memory goes to its own file (on the shared log, two
    # ranks' lines could run together and lose the figure)
    mpirun --oversubscribe --bind-to none -np "$np" -x OMP_NUM_THREADS="$threads" \
      sh -c 'exec /usr/bin/time -o "$0.$OMPI_COMM_WORLD_RANK" -f "%M" "$@"' "$work/rss" "$bin" ingest \
      --set input.layout=marketplace --set input.path="$dir" --set run.out="$work/out" > "$work/ingest.log" 2>&1
    s=$(/usr/bin/python3 -c "import json;print(json.load(open('$work/out/summary.json'))['seconds']['ingest'])")
    # parse + clean: the per-file read times of the progress lines
    p=$(grep -o 'MB in [0-9.]* s' "$work/ingest.log" | awk '{ t += $3 } END { print t }')
    k=$(cat "$work"/rss.* | awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
    [ "$(ls "$work"/rss.* | wc -l)" = "$np" ] || { echo "bench: missing peak memory of some rank" >&2; exit 1; }
    echo "$tag run $i ($np rank(s) x $threads thread(s)): ingest $s s (parse + clean $p s), peak memory per rank $((k / 1024)) MiB"
    echo "$s" >> "$work/times.$tag"
    if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then
      best=$s parse=$p
      cp "$work/out/summary.json" "$work/best-summary.$tag.json"
    fi
    if [ "$k" -gt "$peak" ]; then peak=$k; fi
  done
  echo "$parse $peak" > "$work/stats.$tag"
}
# today's build before issue 14, from the history (once per BENCH_DIR)
base_ref=${BASELINE_REF:-18adb43}
base_bin=${BASELINE_BIN:-$work/baseline-build/segcast}
if [ ! -x "$base_bin" ]; then
  # the sources in a worktree for the build's time only; the build stays
  rm -rf "$work/baseline-src" "$work/baseline-build"
  git -C "$root" worktree add -f --detach "$work/baseline-src" "$base_ref" > /dev/null 2>&1
  cmake -S "$work/baseline-src" -B "$work/baseline-build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$work/baseline-build" -j"$(nproc)" --target segcast > /dev/null
  git -C "$root" worktree remove --force "$work/baseline-src" 2>/dev/null || true
  [ -x "$base_bin" ] || { echo "bench: cannot build $base_ref" >&2; exit 1; }
fi
# the damaged copy (once per BENCH_DIR): DAMAGE of the lines of every file
# but the tiny network.csv and skus.csv
damage=${DAMAGE:-0.001}
ddata="$work/data-damaged"
if [ ! -f "$ddata/orders.csv" ]; then
  mkdir -p "$ddata"
  cp "$data"/*.csv "$ddata/"
  k=1
  for f in users orders clicks delivery inventory; do
    col=""; [ "$f" = clicks ] && col=platform
    /usr/bin/python3 "$root/tests/e2e/damage_csv.py" "$ddata/$f.csv" $((k++)) "$damage" $col > /dev/null
  done
fi
# the builds alternate, so that the machine's drift falls on both
for r in $(seq "$runs"); do
  runs=1 ingest_runs "$data" generated.$r "$ranks" 1
  runs=1 ingest_runs "$data" baseline.$r "$ranks" 1 "$base_bin"
  runs=1 ingest_runs "$data" hybrid.$r 1 "$ranks"
  runs=1 ingest_runs "$data" baseline-hybrid.$r 1 "$ranks" "$base_bin"
  runs=1 ingest_runs "$ddata" damaged.$r "$ranks" 1
done
for tag in generated baseline hybrid baseline-hybrid damaged; do
  cat "$work"/times."$tag".[0-9]* > "$work/times.$tag"
  best=$(sort -g "$work/times.$tag" | head -1)
  for r in $(seq "$runs"); do
    if [ "$(cat "$work/times.$tag.$r")" = "$best" ]; then
      cp "$work/stats.$tag.$r" "$work/stats.$tag"
      cp "$work/best-summary.$tag.$r.json" "$work/best-summary.$tag.json"
    fi
  done
  rm -f "$work"/times."$tag".[0-9]*
done
ingest_runs "$tdata" time "$ranks" 1
share=$(awk "BEGIN { printf \"%d\", $bytes / $ranks / 1024 }")
/usr/bin/python3 - "$work" "$bytes" "$pd_s" "$pd_dates_s" "$pd_time_s" "$gen" "$ranks" "$share" "$users" "$pd_best_s" "${PANDAS_RUNS:-3}" <<'PY'
import json, os, statistics, sys
work, b, pd_s, pdd_s, pdt_s, gen, ranks, share, users, pdb_s, pd_runs = sys.argv[1:]
b = int(b); pd_s = float(pd_s); pdd_s = float(pdd_s); pdt_s = float(pdt_s); gen = float(gen); pdb_s = float(pdb_s)
ranks = int(ranks); share = int(share)
mb = b / 1e6
times = {t: [float(x) for x in open(f"{work}/times.{t}")]
         for t in ("generated", "time", "hybrid", "baseline", "baseline-hybrid", "damaged")}
stats = {t: open(f"{work}/stats.{t}").read().split() for t in times}
best = {t: min(v) for t, v in times.items()}
median = {t: statistics.median(v) for t, v in times.items()}
print(f"data set: {users} users, {mb:.0f} MB of CSV; {ranks} rank(s) on this machine")
print(f"{'':46}{'seconds':>9}{'MB/s':>8}{'MB/s/core':>11}{'vs pandas':>11}{'vs pandas+dates':>17}")
def row(name, t, cores, peer=pd_s, peer_dates=pdd_s):
    dates = f"{peer_dates / t:16.1f}x" if peer_dates else ""
    print(f"{name:46}{t:9.2f}{mb / t:8.0f}{mb / t / cores:11.0f}{peer / t:10.1f}x{dates}")
# a best row is set against pandas' best, a median row against its median
row(f"pandas read_csv (all files), best of {pd_runs}", pdb_s, 1, pdb_s)
row(f"pandas read_csv (all files), median", pd_s, 1)
row("pandas read_csv, dates parsed", pdd_s, 1)
row("segcast parse + clean (all files), best run", float(stats["generated"][0]), ranks, pdb_s)
row(f"segcast ingest, {ranks} ranks, best of {len(times['generated'])}", best["generated"], ranks, pdb_s)
row(f"segcast ingest, {ranks} ranks, median", median["generated"], ranks)
row(f"segcast ingest, 1 rank x {ranks} threads, best", best["hybrid"], ranks, pdb_s)
row(f"segcast ingest, 1 rank x {ranks} threads, median", median["hybrid"], ranks)
print("the same files in time order (orders, clicks, delivery sorted by time):")
row("pandas read_csv (all files)", pdt_s, 1, pdt_s, None)
row(f"segcast ingest, {ranks} ranks, best", best["time"], ranks, pdt_s, None)
row(f"segcast ingest, {ranks} ranks, median", median["time"], ranks, pdt_s, None)
base_ref = os.environ.get("BASELINE_REF", "18adb43")
print(f"against the build of {base_ref} (quote parity, before issue 14), same files, runs alternating:")
for tag, base, name in (("generated", "baseline", f"{ranks} ranks x 1 thread"),
                        ("hybrid", "baseline-hybrid", f"1 rank x {ranks} threads")):
    print(f"  {name:24} best {best[tag]:6.2f} s against {best[base]:6.2f} s ({best[tag] / best[base]:.3f}x), "
          f"median {median[tag]:6.2f} s against {median[base]:6.2f} s ({median[tag] / median[base]:.3f}x)")
dm = json.load(open(f"{work}/best-summary.damaged.json"))["input"]["files"]
rd = sum(v["read"] for v in dm.values()); rj = sum(v["rejected"] for v in dm.values())
dmg = os.environ.get("DAMAGE", "0.001")
print(f"the files with {float(dmg) * 100:g} % of their lines damaged ({rj:,} of {rd:,} rows rejected): "
      f"best {best['damaged']:.2f} s, median {median['damaged']:.2f} s ({median['damaged'] / median['baseline']:.3f}x "
      f"the old build's median on the clean files, {median['damaged'] / median['generated']:.3f}x this build's)")
if gen >= 0.05:
    print(f"generate {gen:.2f} s + ingest {best['generated']:.2f} s = {gen + best['generated']:.2f} s")
else:
    print("generate: the files were already there (a fresh BENCH_DIR times it)")
peak = max(int(stats[t][1]) for t in ("generated", "time"))
print(f"peak memory per rank ({ranks} ranks) {peak / 1024:.0f} MiB; share of the input per rank {share / 1024:.0f} MiB; "
      f"ratio {peak / share:.2f}")
# where the best runs' time went (summary.json seconds_steps.ingest, rank 0's clock)
steps = {t: json.load(open(f"{work}/best-summary.{t}.json")).get("seconds_steps", {}).get("ingest", {}) for t in times}
print(f"the best runs' steps:{'as generated':>29}{'time order':>12}{'1 rank':>10}")
for name, t in steps["generated"].items():
    print(f"  {name:38}{t:9.3f} s{steps['time'].get(name, float('nan')):10.3f} s{steps['hybrid'].get(name, float('nan')):8.3f} s")
PY
echo "log of the last run: $work/ingest.log"
