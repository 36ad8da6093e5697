"""The seed-style notebook pipeline, end to end, for bench/e2e_vs_notebook.sh.

Usage:
  /usr/bin/python3 bench/e2e_notebook.py DATA_DIR [--threads 2] [--rounds 300] [--depth 8] [--json OUT.json]

What a notebook on the marketplace files does, with Debian's pandas,
scikit-learn and xgboost (issue 15 describes it):
  load      pandas read_csv of every file (users, orders, delivery, clicks,
            inventory, network, skus), the time columns parsed;
  segment   RFM features by pandas group-by, quintile scores and the
            segment map, log1p + StandardScaler, KMeans(k=4, n_init=10) and
            the sweep k = 2..10 with KMeans(n_init=10), silhouette_score on
            a 10,000-customer sample (sample_size=10000, random_state=0, as
            scikit-learn's documentation shows and as segcast's
            segment.silhouette_sample does), Calinski-Harabasz and
            Davies-Bouldin (bench/segment_vs_sklearn.py's peer_segment),
            plus the behaviour features (clicks per user and platform);
  demand    the daily sku x region demand table with its 14 features, in
            vectorised pandas/numpy (bench/forecast_vs_xgboost.py's
            pandas_demand, the same table as segcast's);
  train     XGBoost 1.7 `hist`, 300 rounds, depth 8, eta 0.1, 256 bins,
            lambda 1, min_child_weight 1, base score the training mean, on
            every row before the last 28 days (no validation window: a
            notebook without early stopping trains on all of them), scored
            by test R2 on the last 28 days.
Prints each step's seconds and writes them (and the R2) to --json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forecast_vs_xgboost import FEATURES, load_marketplace, pandas_demand, r2  # noqa: E402
from segment_vs_sklearn import peer_segment  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--test-days", type=int, default=28)
    ap.add_argument("--json")
    a = ap.parse_args()
    sec = {}

    t = time.perf_counter()
    orders, network, inventory, delivery = load_marketplace(a.data)
    users = pd.read_csv(os.path.join(a.data, "users.csv"))
    clicks = pd.read_csv(os.path.join(a.data, "clicks.csv"))
    clicks["ts"] = pd.to_datetime(clicks["ts"], format="%Y-%m-%d %H:%M:%S")
    skus = pd.read_csv(os.path.join(a.data, "skus.csv"))
    sec["load"] = time.perf_counter() - t
    print(f"load      {sec['load']:8.2f} s  ({len(users)} users, {len(orders)} order lines, {len(clicks)} clicks, "
          f"{len(inventory)} inventory rows, {len(skus)} skus)", flush=True)

    t = time.perf_counter()
    o = orders[["order_id", "user_id", "quantity", "final_unit_price"]].assign(date=orders["order_time"].dt.normalize())
    steps, inertia, n = peer_segment(o, 10)
    behaviour = clicks.groupby(["user_id", "platform"]).size().unstack(fill_value=0)
    sec["segment"] = time.perf_counter() - t
    print(f"segment   {sec['segment']:8.2f} s  ({n} customers; " +
          ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()) + f"; behaviour: clicks per user and platform, {behaviour.shape[1]} platforms)",
          flush=True)

    t = time.perf_counter()
    demand = pandas_demand(orders, network, inventory, delivery)
    sec["demand"] = time.perf_counter() - t
    print(f"demand    {sec['demand']:8.2f} s  ({len(demand)} rows)", flush=True)

    import xgboost as xgb
    t = time.perf_counter()
    test_start = int(demand["date"].max()) - a.test_days + 1
    train, test = demand[demand["date"] < test_start], demand[demand["date"] >= test_start]
    y = train["units"].to_numpy(np.float32)
    params = {"tree_method": "hist", "max_depth": a.depth, "eta": 0.1, "max_bin": 256, "lambda": 1.0,
              "min_child_weight": 1.0, "nthread": a.threads, "base_score": float(y.mean()),
              "objective": "reg:squarederror"}
    dtrain = xgb.DMatrix(train[FEATURES].to_numpy(np.float32), label=y, feature_names=FEATURES, nthread=a.threads)
    booster = xgb.train(params, dtrain, a.rounds)
    pred = booster.predict(xgb.DMatrix(test[FEATURES].to_numpy(np.float32), feature_names=FEATURES))
    sec["train"] = time.perf_counter() - t
    score = r2(test["units"].to_numpy(float), pred)
    print(f"train     {sec['train']:8.2f} s  ({len(train)} rows, {a.rounds} rounds, depth {a.depth}, xgboost "
          f"{xgb.__version__}, {a.threads} threads; test R2 {score:.4f} on {len(test)} rows)", flush=True)
    sec["total"] = sum(sec.values())
    if a.json:
        json.dump({"seconds": sec, "r2": score, "train_rows": len(train), "test_rows": len(test),
                   "customers": n}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
