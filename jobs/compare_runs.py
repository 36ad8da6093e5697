#!/usr/bin/python3
"""compare_runs.py: how a retrained model differs from the previous one.

usage: compare_runs.py PREVIOUS_RUN NEW_RUN [--out DIR]

Reads each run folder's customer_segments.csv and summary.json and writes,
into --out (default NEW_RUN), comparison.json and comparison.md:

- segment sizes: customers per segment ("<cluster>: <cluster_name>") in
  each run, their shares and the change;
- the migration matrix: customers of both runs (inner join on user_id),
  counted by (previous segment, new segment), plus the customers only in the
  new run ("(new customer)") and only in the previous one ("(gone)");
- the model metrics: k, inertia, silhouette, forecast R2, RMSE and WAPE of
  both runs and their change (absent metrics are shown as n/a).

Cluster numbers are arbitrary from one fit to the next; the names (rule
based, from the segment profiles) are what a reader follows across runs.
Debian's pandas (python3-pandas) is all it needs; retrain.sbatch calls it.
"""
import json
import os
import sys

import pandas as pd


def load_run(folder):
    seg_path = os.path.join(folder, "customer_segments.csv")
    sum_path = os.path.join(folder, "summary.json")
    for p in (seg_path, sum_path):
        if not os.path.exists(p):
            sys.exit(f"compare_runs: {p} is missing: the run in {folder} did not finish")
    seg = pd.read_csv(seg_path, usecols=["user_id", "cluster", "cluster_name"], dtype={"user_id": "int64"})
    seg["segment"] = seg["cluster"].astype(str) + ": " + seg["cluster_name"].astype(str)
    with open(sum_path) as f:
        summary = json.load(f)
    return seg, summary


def metric(summary, *path):
    v = summary
    for k in path:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v if isinstance(v, (int, float)) else None


def fmt(v, digits=4):
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}f}"


def compare(prev_dir, new_dir):
    prev, sp = load_run(prev_dir)
    new, sn = load_run(new_dir)

    sizes = pd.DataFrame({"previous": prev["segment"].value_counts(), "new": new["segment"].value_counts()})
    sizes = sizes.fillna(0).astype("int64").sort_index()
    sizes["previous_share"] = sizes["previous"] / max(len(prev), 1)
    sizes["new_share"] = sizes["new"] / max(len(new), 1)
    sizes["change"] = sizes["new"] - sizes["previous"]

    both = prev.merge(new, on="user_id", how="inner", suffixes=("_prev", "_new"))
    matrix = pd.crosstab(both["segment_prev"], both["segment_new"])
    only_new = new[~new["user_id"].isin(prev["user_id"])]
    only_prev = prev[~prev["user_id"].isin(new["user_id"])]
    rows = sorted(set(prev["segment"]))
    cols = sorted(set(new["segment"]))
    matrix = matrix.reindex(index=rows, columns=cols, fill_value=0)
    matrix["(gone)"] = only_prev["segment"].value_counts().reindex(rows, fill_value=0)
    new_row = only_new["segment"].value_counts().reindex(cols, fill_value=0)
    matrix.loc["(new customer)"] = list(new_row) + [0]
    matrix = matrix.astype("int64")
    same_name = int((both["cluster_name_prev"] == both["cluster_name_new"]).sum())

    metrics = {}
    for name, path in [("k", ("segment", "k")), ("inertia", ("segment", "inertia")),
                       ("silhouette", ("segment", "silhouette")), ("customers", ("segment", "customers")),
                       ("r2", ("forecast", "r2")), ("rmse", ("forecast", "rmse")), ("wape", ("forecast", "wape"))]:
        a, b = metric(sp, *path), metric(sn, *path)
        metrics[name] = {"previous": a, "new": b, "change": (b - a) if a is not None and b is not None else None}

    result = {
        "previous_run": os.path.abspath(prev_dir),
        "new_run": os.path.abspath(new_dir),
        "previous_as_of": sp.get("as_of"),
        "new_as_of": sn.get("as_of"),
        "customers": {"previous": int(len(prev)), "new": int(len(new)), "in_both": int(len(both)),
                      "only_new": int(len(only_new)), "only_previous": int(len(only_prev)),
                      "same_segment_name": same_name},
        "segment_sizes": {seg: {k: (int(v) if k in ("previous", "new", "change") else float(v))
                                for k, v in row.items()} for seg, row in sizes.iterrows()},
        "migration": {"rows": list(matrix.index), "columns": list(matrix.columns),
                      "counts": [[int(x) for x in r] for r in matrix.values]},
        "metrics": metrics,
    }

    md = [f"# Retrain comparison", "",
          f"previous: {prev_dir} (as of {sp.get('as_of', '?')})  ",
          f"new: {new_dir} (as of {sn.get('as_of', '?')})", "",
          "## Model metrics", "", "| metric | previous | new | change |", "|---|---|---|---|"]
    for name, m in metrics.items():
        md.append(f"| {name} | {fmt(m['previous'])} | {fmt(m['new'])} | {fmt(m['change'])} |")
    md += ["", "## Segment sizes", "", "| segment | previous | share | new | share | change |",
           "|---|---|---|---|---|---|"]
    for seg, row in sizes.iterrows():  # iterrows makes every value a float
        md.append(f"| {seg} | {int(row['previous'])} | {row['previous_share']:.1%} | {int(row['new'])} | "
                  f"{row['new_share']:.1%} | {int(row['change']):+d} |")
    c = result["customers"]
    md += ["", "## Migration of customers (rows: previous segment, columns: new segment)", "",
           f"{c['in_both']} customers in both runs, {c['same_segment_name']} of them "
           f"({c['same_segment_name'] / max(c['in_both'], 1):.1%}) in a segment of the same name; "
           f"{c['only_new']} new, {c['only_previous']} gone.", "",
           "| previous \\ new | " + " | ".join(matrix.columns) + " |",
           "|---" * (len(matrix.columns) + 1) + "|"]
    for seg, row in matrix.iterrows():
        md.append(f"| {seg} | " + " | ".join(str(int(x)) for x in row) + " |")
    return result, "\n".join(md) + "\n"


def main(argv):
    args = [a for a in argv[1:]]
    out = None
    if "--out" in args:
        i = args.index("--out")
        if i + 1 >= len(args):
            sys.exit("usage: compare_runs.py PREVIOUS_RUN NEW_RUN [--out DIR]")
        out = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit("usage: compare_runs.py PREVIOUS_RUN NEW_RUN [--out DIR]")
    result, md = compare(args[0], args[1])
    out = out or args[1]
    for name, text in (("comparison.json", json.dumps(result, indent=2) + "\n"), ("comparison.md", md)):
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name))
    sys.stdout.write(md)


if __name__ == "__main__":
    main(sys.argv)
