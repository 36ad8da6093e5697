#!/usr/bin/env bash
# The Slurm job scripts on a real Slurm: stands up a private single-node
# cluster (Debian's slurmctld, slurmd and munge, on localhost), submits
# jobs/pipeline.sbatch on configs/small.ini, then jobs/retrain.sbatch on new
# data, and tears the cluster down (also on failure or timeout).
#
# pipeline.sbatch (2 ranks x 1 thread):
#  - the job COMPLETED with exit code 0:0 and every output of OUTPUTS.md is
#    there;
#  - summary.json is sane: 2 ranks, 1 thread, a k in the configured range,
#    customers = rows of customer_segments.csv = sum of the segment profiles'
#    customers (counted here with Python's csv module), read = loaded +
#    rejected for every input file, a finite R2 that beats zero, stage times;
#  - the job output reads well in a file: the job's header line (naming
#    the SEGCAST_BIN program, none being on PATH), progress as
#    lines (no carriage returns), "run: done".
# retrain.sbatch (history seeded with the pipeline run as the previous model,
# new data = the generator with another seed and 5,000 users, 20 rounds,
# --keep 1, --every 1hour):
#  - COMPLETED; the new run folder holds the models and summary but no store;
#    `latest` points to it; the older run was pruned (--keep 1);
#  - comparison.json agrees with an independent count from both
#    customer_segments.csv files: segment sizes, every cell of the migration
#    matrix (join on user_id), new and gone customers, and the R2 change;
#  - the next retrain is chained: a pending job that begins in about an hour.
set -euo pipefail
source "$(dirname "$0")/test_slurm_lib.sh"
slurm_test_start slurm
T=$SLURM_TEST_DIR
PY=/usr/bin/python3
cd "$T"

# ---- pipeline -------------------------------------------------------------
id=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --time=15 --output="$T/pipeline-%j.out" \
  "$SEGCAST_ROOT/jobs/pipeline.sbatch" "$SEGCAST_ROOT/configs/small.ini" \
  --set "run.out=$T/out" --set "input.path=$T/data") || fail "sbatch pipeline.sbatch failed"
echo "submitted pipeline job $id"
state=$(wait_job "$id" 400) || exit 1
[ "$state" = COMPLETED ] || fail "pipeline job $id ended $state (exit $(job_field "$id" ExitCode))"
[ "$(job_field "$id" ExitCode)" = 0:0 ] || fail "pipeline job exit code $(job_field "$id" ExitCode)"
for f in customer_segments.csv segment_profiles.csv rfm_segments.csv model_selection.csv kmeans_model.json \
  forecast.csv feature_importance.csv gbdt_model.json results.h5 summary.json rejects.csv report.html; do
  [ -s "$T/out/$f" ] || fail "pipeline output $f is missing or empty"
done
ls "$T/out" | grep -q '\.tmp$' && fail "temporary files left in the output folder: $(ls "$T/out" | grep '\.tmp$')"
log="$T/pipeline-$id.out"
grep -q "^segcast job $id: 2 ranks x 1 threads" "$log" || fail "no job header line in $log"
grep -qF "program $SEGCAST_BIN (from SEGCAST_BIN)" "$log" || fail "the header does not name SEGCAST_BIN's program: is a segcast on PATH?"
grep -q "run: done in" "$log" || fail "no 'run: done' line in $log"
if grep -q $'\r' "$log"; then fail "carriage returns in the Slurm output file $log (progress must be lines)"; fi
grep -Eq ": done, [0-9]+ [a-z]+ in [0-9.]+ s" "$log" || fail "no progress end line (\": done, N units in S s\") in $log"

"$PY" - "$T/out" <<'EOF' || fail "summary.json check failed"
import csv, json, math, sys
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
def need(cond, what):
    if not cond:
        sys.exit(f"summary.json: {what}")
need(s["ranks"] == 2 and s["threads"] == 1, f"ranks/threads {s['ranks']}/{s['threads']}, expected 2/1")
rows = list(csv.DictReader(open(f"{out}/customer_segments.csv", newline="")))
prof = list(csv.DictReader(open(f"{out}/segment_profiles.csv", newline="")))
need(s["segment"]["customers"] == len(rows) > 1000, f"customers {s['segment']['customers']} vs {len(rows)} rows")
need(sum(int(p["customers"]) for p in prof) == len(rows), "segment profiles do not add up to the customers")
need(2 <= s["segment"]["k"] <= 6 and len(prof) == s["segment"]["k"], f"k {s['segment']['k']}, {len(prof)} profiles")
need(len({r["cluster"] for r in rows}) == s["segment"]["k"], "clusters in customer_segments.csv != k")
need(-1 < s["segment"]["silhouette"] <= 1, "silhouette out of range")
for name, f in s["input"]["files"].items():
    need(f["read"] == f["loaded"] + f["rejected"], f"{name}: read != loaded + rejected")
r2 = s["forecast"]["r2"]
need(math.isfinite(r2) and 0 < r2 <= 1, f"forecast R2 {r2}")
need(s["forecast"]["test_rows"] > 0, "no forecast test rows")
for st in ("ingest", "segment", "forecast", "total"):
    need(s["seconds"][st] > 0, f"no time for {st}")
print(f"summary ok: {len(rows)} customers, k={s['segment']['k']}, R2={r2:.3f}, total {s['seconds']['total']:.1f} s")
EOF
echo "ok: pipeline job $id COMPLETED with sane outputs"

# ---- retrain --------------------------------------------------------------
H="$T/history"
prev="$H/runs/20000101-000000-0"
mkdir -p "$prev"
cp "$T/out"/{customer_segments.csv,summary.json,kmeans_model.json,gbdt_model.json} "$prev/"
id=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --time=15 --output="$T/retrain-%j.out" \
  "$SEGCAST_ROOT/jobs/retrain.sbatch" "$SEGCAST_ROOT/configs/small.ini" --history "$H" --keep 1 \
  --data "$T/data2" --every 1hour --set generate.seed=8 --set generate.users=5000 --set forecast.rounds=20) || fail "sbatch retrain.sbatch failed"
echo "submitted retrain job $id"
state=$(wait_job "$id" 400) || exit 1
[ "$state" = COMPLETED ] || fail "retrain job $id ended $state (exit $(job_field "$id" ExitCode))"
new=$(find "$H/runs" -mindepth 1 -maxdepth 1 -type d -name "*-$id")
[ -n "$new" ] || fail "no run folder for job $id in $H/runs"
[ "$(readlink -f "$H/latest")" = "$(readlink -f "$new")" ] || fail "latest does not point to the new run"
[ ! -e "$prev" ] || fail "--keep 1 did not remove the previous run"
[ "$(find "$H/runs" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 1 ] || fail "more than one run kept with --keep 1"
for f in kmeans_model.json gbdt_model.json summary.json customer_segments.csv comparison.md comparison.json; do
  [ -s "$new/$f" ] || fail "retrain output $f is missing"
done
[ ! -e "$new/store.h5" ] || fail "the history kept the store"
grep -q "## Migration of customers" "$new/comparison.md" || fail "comparison.md has no migration matrix"

# the comparison against an independent count (the previous run's files were
# copied above and are still in $T/out)
"$PY" - "$T/out" "$new" <<'EOF' || fail "comparison.json disagrees with an independent count"
import csv, json, sys
from collections import Counter
prev_dir, new_dir = sys.argv[1], sys.argv[2]
def seg(d):
    return {int(r["user_id"]): f'{r["cluster"]}: {r["cluster_name"]}'
            for r in csv.DictReader(open(f"{d}/customer_segments.csv", newline=""))}
a, b = seg(prev_dir), seg(new_dir)
c = json.load(open(f"{new_dir}/comparison.json"))
def need(cond, what):
    if not cond:
        sys.exit(f"comparison.json: {what}")
ca, cb = Counter(a.values()), Counter(b.values())
for name, row in c["segment_sizes"].items():
    need(row["previous"] == ca.get(name, 0) and row["new"] == cb.get(name, 0), f"size of {name}")
need(set(c["segment_sizes"]) == set(ca) | set(cb), "segments listed")
both = a.keys() & b.keys()
need(c["customers"]["in_both"] == len(both) and c["customers"]["only_new"] == len(b.keys() - a.keys())
     and c["customers"]["only_previous"] == len(a.keys() - b.keys()), "customer counts")
m = c["migration"]
cell = Counter((a[u], b[u]) for u in both)
gone = Counter(a[u] for u in a.keys() - b.keys())
fresh = Counter(b[u] for u in b.keys() - a.keys())
for i, r in enumerate(m["rows"]):
    for j, col in enumerate(m["columns"]):
        if r == "(new customer)":
            want = 0 if col == "(gone)" else fresh.get(col, 0)
        elif col == "(gone)":
            want = gone.get(r, 0)
        else:
            want = cell.get((r, col), 0)
        need(m["counts"][i][j] == want, f"migration[{r}][{col}] = {m['counts'][i][j]}, expected {want}")
need(sum(map(sum, m["counts"])) == len(a.keys() | b.keys()), "matrix total")
sa = json.load(open(f"{prev_dir}/summary.json"))
sb = json.load(open(f"{new_dir}/summary.json"))
r2 = c["metrics"]["r2"]
need(r2["previous"] == sa["forecast"]["r2"] and r2["new"] == sb["forecast"]["r2"], "R2 values")
need(abs(r2["change"] - (sb["forecast"]["r2"] - sa["forecast"]["r2"])) < 1e-12, "R2 change")
need(c["metrics"]["k"]["new"] == sb["segment"]["k"], "k")
print(f"comparison ok: {len(both)} customers in both runs, {len(m['rows'])} x {len(m['columns'])} matrix, "
      f"R2 {r2['previous']:.3f} -> {r2['new']:.3f}")
EOF

# the chained next retrain: pending, beginning in about an hour
next=$(squeue -h -t pending -n segcast-retrain -o %i | head -n 1)
[ -n "$next" ] || fail "--every 1hour did not chain a next retrain job"
begin=$(date -d "$(job_field "$next" StartTime)" +%s 2>/dev/null || echo 0)
delta=$((begin - $(date +%s)))
[ "$delta" -gt 3000 ] && [ "$delta" -le 3600 ] || fail "the next retrain begins in $delta s, not about an hour"
scancel "$next"
echo "ok: retrain job $id COMPLETED, comparison checked, next retrain chained as job $next (begins in $delta s)"
echo "PASS"
