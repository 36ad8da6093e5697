"""segcast's segmentation against the pandas / scikit-learn pipeline.

Usage:
  /usr/bin/python3 bench/segment_vs_sklearn.py DATA_DIR [--segcast BIN] [--ranks N] [--threads T]
                                               [--out DIR] [--k-max K]

DATA_DIR is a marketplace data set (segcast generate --layout marketplace
--out DATA_DIR --users 1000000). Both sides run on the same data in one
run, and the script prints them side by side:

  segcast  `segcast ingest` (not compared: loading is the other side's
           read_csv), then `segcast segment`; the step times come from
           summary.json (features, rfm, standardize, sweep).
  peer     the seeds' pipeline: pandas read_csv (not compared), pandas
           group-by RFM features, rank quintile scores and the segment map,
           log1p + StandardScaler, KMeans(k=4, n_init=10), and the sweep
           k = 2..10 with KMeans(n_init=10), silhouette_score on a 10,000
           sample, Calinski-Harabasz and Davies-Bouldin.

It also compares, for every k, segcast's inertia with scikit-learn's
KMeans(n_init=10) on the same standardized features (the ratio must stay
within 1.005), and checks that both sides found the same customers.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler


def run_segcast(args):
    out = args.out
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_io="romio321",
               OMPI_MCA_pml="ob1")
    launch = [args.segcast] if args.ranks == 1 else ["mpirun", "--oversubscribe", "-np", str(args.ranks), args.segcast]
    sets = ["--set", "input.layout=marketplace", "--set", f"input.path={args.data}", "--set", f"run.out={out}",
            "--set", "forecast.enabled=false", "--set", f"segment.k_max={args.k_max}"]
    if not os.path.exists(os.path.join(out, "store.h5")):
        subprocess.run(launch + ["ingest"] + sets, check=True, env=env, stdout=subprocess.DEVNULL)
    t = time.time()
    subprocess.run(launch + ["segment"] + sets, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.time() - t
    summ = json.load(open(os.path.join(out, "summary.json")))
    sec = summ["segment"]["seconds"]
    sel = pd.read_csv(os.path.join(out, "model_selection.csv"))
    return sec, wall, summ, sel


def run_peer(data, k_max):
    t0 = time.time()
    o = pd.read_csv(os.path.join(data, "orders.csv"),
                    usecols=["order_id", "user_id", "order_time", "quantity", "final_unit_price"])
    o["date"] = pd.to_datetime(o["order_time"].str.slice(0, 10))
    load = time.time() - t0
    t, inertia, n = peer_segment(o, k_max)
    t["load"] = load
    return t, inertia, n


def peer_segment(o, k_max):
    """The seeds' segmentation of the orders frame o (order_id, user_id, date as a day, quantity,
    final_unit_price): step seconds, k-means inertia by k of the sweep, customers. Also used by
    bench/e2e_notebook.py."""
    t = {}
    t0 = time.time()
    v = o[(o["quantity"] > 0) & (o["final_unit_price"] > 0)]
    v = v.assign(amount=v["quantity"] * v["final_unit_price"])
    as_of = v["date"].max() + pd.Timedelta(days=1)
    g = v.groupby("user_id").agg(last=("date", "max"), frequency=("order_id", "nunique"), monetary=("amount", "sum"))
    g["recency_days"] = (as_of - g["last"]).dt.days
    t["features"] = time.time() - t0

    t0 = time.time()
    n = len(g)
    for col, name, rev in (("recency_days", "r", True), ("frequency", "f", False), ("monetary", "m", False)):
        key = g[col].round(6) if col == "monetary" else g[col]
        r = pd.DataFrame({"k": key, "u": g.index}).sort_values(["k", "u"]).assign(r=np.arange(n))
        q = (5 * r["r"] // n).reindex(g.index)
        g[name] = 5 - q if rev else 1 + q
    seg = np.select([(g.r == 5) & (g.f >= 4), g.r.between(3, 4) & (g.f >= 4), (g.r >= 4) & g.f.between(2, 3),
                     (g.r == 5) & (g.f == 1), (g.r == 4) & (g.f == 1), (g.r == 3) & (g.f == 3),
                     (g.r == 3) & (g.f <= 2), (g.r <= 2) & (g.f == 5), (g.r <= 2) & g.f.between(3, 4)],
                    ["Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising",
                     "Need Attention", "About to Sleep", "Can't Lose Them", "At Risk"], "Hibernating")
    g["segment"] = seg
    t["rfm"] = time.time() - t0

    t0 = time.time()
    Z = StandardScaler().fit_transform(np.log1p(g[["recency_days", "frequency", "monetary"]].to_numpy(float)))
    t["standardize"] = time.time() - t0

    t0 = time.time()
    KMeans(n_clusters=4, n_init=10, random_state=0).fit(Z)
    t["kmeans_k4"] = time.time() - t0

    t0 = time.time()
    inertia = {}
    for k in range(2, k_max + 1):
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(Z)
        inertia[k] = km.inertia_
        silhouette_score(Z, km.labels_, sample_size=min(10000, n), random_state=0)
        calinski_harabasz_score(Z, km.labels_)
        davies_bouldin_score(Z, km.labels_)
    t["sweep"] = time.time() - t0
    return t, inertia, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--segcast", default="build/segcast")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/segment_bench")
    ap.add_argument("--k-max", type=int, default=10)
    args = ap.parse_args()

    sec, wall, summ, sel = run_segcast(args)
    peer, inertia, n = run_peer(args.data, args.k_max)

    ours = {"features": sec["features"], "rfm": sec["rfm"], "standardize": sec["standardize"],
            "k-means + sweep": sec["sweep"]}
    theirs = {"features": peer["features"], "rfm": peer["rfm"], "standardize": peer["standardize"],
              "k-means + sweep": peer["kmeans_k4"] + peer["sweep"]}
    print(f"segcast {args.ranks} rank(s) x {args.threads} thread(s) vs pandas {pd.__version__} / "
          f"scikit-learn (all cores); {n} customers (segcast: {summ['segment']['customers']})")
    print(f"  {'step':<18} {'segcast s':>10} {'pandas/sklearn s':>17} {'speed-up':>9}")
    for step in ours:
        print(f"  {step:<18} {ours[step]:>10.2f} {theirs[step]:>17.2f} {theirs[step] / ours[step]:>8.1f}x")
    a, b = sum(ours.values()), sum(theirs.values())
    print(f"  {'total':<18} {a:>10.2f} {b:>17.2f} {b / a:>8.1f}x")
    print(f"  (not compared: loading, segcast store {summ['seconds'].get('load', float('nan')):.2f} s, "
          f"pandas read_csv {peer['load']:.2f} s; segcast segment wall {wall:.2f} s incl. profiles "
          f"{sec['profiles']:.2f} s and outputs {sec['outputs']:.2f} s)")
    print("  inertia by k, same standardized features (segcast / KMeans(n_init=10)):")
    worst = 0.0
    for _, row in sel.iterrows():
        k = int(row["k"])
        if k in inertia:
            ratio = row["inertia"] / inertia[k]
            worst = max(worst, ratio)
            print(f"    k = {k:2d}: segcast {row['inertia']:.6g}  sklearn {inertia[k]:.6g}  ratio {ratio:.5f}")
    ok = worst <= 1.005 and n == summ["segment"]["customers"]
    print(f"  worst ratio {worst:.5f}: {'within' if worst <= 1.005 else 'OUTSIDE'} 0.5 %")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
