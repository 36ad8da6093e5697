# test_install_lib.sh: what the install tests share (sourced, not a test).
#
# fail MESSAGE                  prints FAIL and exits 1 (test_slurm_lib.sh)
# expected_commit               the commit `segcast --version` must name: git's
#                               HEAD of $SEGCAST_ROOT (with -dirty for a
#                               modified tree), or "unknown" outside git
# write_tiny_config FILE        a small whole run (3,000 generated users, few
#                               seedings and rounds) with relative paths:
#                               data in data/tiny, outputs in out/tiny
# check_tiny_outputs DIR RANKS COMMIT   checks a finished run of that config:
#                               every output, customers = rows of
#                               customer_segments.csv = sum of the profiles,
#                               its columns, k in [2, 4] with one cluster
#                               label per k, read = loaded + rejected, forecast
#                               rows, summary.json's ranks and commit
# (fail, and the Slurm helpers for the installed-pipeline test)
source "$(dirname "${BASH_SOURCE[0]}")/test_slurm_lib.sh"

expected_commit() {
  local head
  if head=$(git -C "$SEGCAST_ROOT" rev-parse --verify HEAD 2>/dev/null) &&
    [ "$(cd "$(git -C "$SEGCAST_ROOT" rev-parse --show-toplevel)" && pwd -P)" = "$(cd "$SEGCAST_ROOT" && pwd -P)" ]; then
    if [ -n "$(git --no-optional-locks -C "$SEGCAST_ROOT" status --porcelain --untracked-files=no)" ]; then
      head="$head-dirty"
    fi
    echo "$head"
  else
    echo unknown
  fi
}

write_tiny_config() {
  cat >"$1" <<'INI'
; a small whole run for the install tests; paths are relative to the
; folder segcast starts in (the submit folder under Slurm)
[input]
layout = marketplace
path = data/tiny
[generate]
users = 3000
seed = 5
[run]
out = out/tiny
[segment]
k_min = 2
k_max = 4
n_init = 2
silhouette_sample = 1000
[forecast]
rounds = 20
max_depth = 4
max_bin = 32
INI
}

check_tiny_outputs() {
  local dir=$1 ranks=$2 commit=$3 f
  for f in customer_segments.csv segment_profiles.csv rfm_segments.csv model_selection.csv kmeans_model.json \
    forecast.csv feature_importance.csv gbdt_model.json results.h5 summary.json rejects.csv report.html; do
    [ -s "$dir/$f" ] || fail "output $dir/$f is missing or empty"
  done
  /usr/bin/python3 - "$dir" "$ranks" "$commit" <<'PY' || fail "the outputs in $dir do not hold up"
import csv, json, sys
out, ranks, commit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = json.load(open(f"{out}/summary.json"))
def need(cond, what):
    if not cond:
        sys.exit(f"{out}: {what}")
rows = list(csv.DictReader(open(f"{out}/customer_segments.csv", newline="")))
cols = list(rows[0].keys()) if rows else []
need(cols[:4] == ["user_id", "recency_days", "frequency", "monetary"] and cols[-2:] == ["cluster", "cluster_name"],
     f"customer_segments.csv columns {cols}")
need(s["segment"]["customers"] == len(rows) > 2000, f"customers {s['segment']['customers']} vs {len(rows)} rows")
ids = [int(r["user_id"]) for r in rows]
need(ids == sorted(ids) and len(set(ids)) == len(ids), "customer_segments.csv is not one row per user, sorted")
prof = list(csv.DictReader(open(f"{out}/segment_profiles.csv", newline="")))
k = s["segment"]["k"]
need(2 <= k <= 4 and len(prof) == k, f"k {k}, {len(prof)} profiles")
need(sum(int(p["customers"]) for p in prof) == len(rows), "the profiles' customers do not add up")
need({r["cluster"] for r in rows} == {p["cluster"] for p in prof}, "clusters of the customers != the profiles'")
sel = list(csv.DictReader(open(f"{out}/model_selection.csv", newline="")))
need([int(r["k"]) for r in sel] == [2, 3, 4], f"model_selection.csv tried k = {[r['k'] for r in sel]}")
for name, f in s["input"]["files"].items():
    need(f["read"] == f["loaded"] + f["rejected"] and f["loaded"] > 0, f"{name}: read {f['read']} != loaded + rejected")
fc = list(csv.DictReader(open(f"{out}/forecast.csv", newline="")))
need(len(fc) == s["forecast"]["test_rows"] > 0, f"forecast.csv {len(fc)} rows, test_rows {s['forecast']['test_rows']}")
need(s["ranks"] == ranks, f"ranks {s['ranks']}, expected {ranks}")
need(s["commit"] == commit, f"summary.json commit {s['commit']}, expected {commit}")
print(f"outputs ok: {len(rows)} customers, k={k}, {len(fc)} forecast rows, {ranks} rank(s), commit {commit}")
PY
}
