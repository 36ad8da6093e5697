"""segcast's forecast stage against its peers, side by side in one run.

Usage (from the repository root, after building):
  /usr/bin/python3 bench/forecast_vs_xgboost.py --bin build/segcast --data DATA_DIR --out OUT_DIR
      [--threads 2] [--rounds 300] [--depth 8] [--eta 0.1] [--bins 256] [--skip-pandas]
      [--layout online-retail]   (then DATA_DIR is the CSV file; the pandas step is skipped)

DATA_DIR is a marketplace data set (segcast generate --users 1000000 for the
figures of docs/forecast.md). The script
  1. runs `segcast ingest` (when OUT_DIR has no store) and `segcast forecast`
     at one rank with --threads OpenMP threads, and reads the demand-table
     and training times and the test R2 from OUT_DIR/summary.json;
  2. builds the same demand table with pandas (vectorised: groupby sums, a
     dense series x day grid, shifts and cumulative sums; reading the CSVs
     is not timed) and checks it equals segcast's, row by row;
  3. trains XGBoost 1.7 `hist` with the same depth, eta, bins, rounds,
     lambda, min_child_weight and base score on exactly the training rows
     segcast used (read from OUT_DIR/results.h5 with h5py), with the same
     threads, and scores the same test rows;
and prints segcast and its peer next to each other.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd

FEATURES = ["avg_price", "avg_discount_rate", "availability", "lead_time_hours", "dow", "dom", "month", "week",
            "lag_1", "lag_7", "lag_14", "lag_28", "roll_mean_7", "roll_mean_28"]
EPOCH = np.datetime64("1970-01-01", "s")


def load_marketplace(folder):
    """The raw tables, parsed (not timed)."""
    orders = pd.read_csv(f"{folder}/orders.csv")
    network = pd.read_csv(f"{folder}/network.csv").drop_duplicates("dc_id")
    inventory = pd.read_csv(f"{folder}/inventory.csv")
    delivery = pd.read_csv(f"{folder}/delivery.csv")
    for df, col in ((orders, "order_time"), (delivery, "arr_time")):
        df[col] = pd.to_datetime(df[col], format="%Y-%m-%d %H:%M:%S")
    inventory["date"] = pd.to_datetime(inventory["date"], format="%Y-%m-%d")
    return orders, network, inventory, delivery


def pandas_demand(orders, network, inventory, delivery):
    """DATA.md 6-7 with vectorised pandas/numpy; returns the table sorted by (sku, region, date)."""
    sec = ((orders["order_time"].values.astype("datetime64[s]") - EPOCH).astype(np.int64))
    o = pd.DataFrame({"order_id": orders["order_id"].values, "sku": orders["sku_id"].values,
                      "dc": orders["dc_ori"].values, "ts": sec, "q": orders["quantity"].values,
                      "amt": orders["quantity"].values * orders["final_unit_price"].values,
                      "orig": orders["quantity"].values * orders["original_unit_price"].values})
    o = o[(o["q"] > 0) & (orders["final_unit_price"].values > 0)]
    o["day"] = o["ts"] // 86400
    first, last = int(o["day"].min()), int(o["day"].max())
    R = last - first + 1
    region_of = pd.Series(network["region_id"].values, index=network["dc_id"].values)
    o["region"] = region_of.reindex(o["dc"].values).values
    o = o[o["region"].notna()]
    o["region"] = o["region"].astype(np.int64)
    inv = inventory[inventory["available_flag"] == 1]
    inv = pd.DataFrame({"sku": inv["sku_id"].values, "region": region_of.reindex(inv["dc_id"].values).values,
                        "day": (inv["date"].values.astype("datetime64[D]").astype(np.int64))})
    inv = inv[inv["region"].notna() & (inv["day"] >= first) & (inv["day"] <= last)]
    inv["region"] = inv["region"].astype(np.int64)
    inv = inv.groupby(["sku", "region", "day"], sort=False).size().rename("dcs").reset_index()

    # series ids over the sales and the availability rows, in (sku, region) order
    keys = pd.concat([o[["sku", "region"]], inv[["sku", "region"]]]).drop_duplicates()
    keys = keys.sort_values(["sku", "region"]).reset_index(drop=True)
    S = len(keys)
    code = pd.Series(np.arange(S), index=keys["sku"].values * 100000 + keys["region"].values)

    def sid(df):
        return code.reindex(df["sku"].values * 100000 + df["region"].values).values

    daily = o.groupby(["sku", "region", "day"], sort=False)[["q", "amt", "orig"]].sum().reset_index()
    cell = sid(daily) * R + (daily["day"].values - first)
    units = np.zeros(S * R)
    amt = np.zeros(S * R)
    orig = np.zeros(S * R)
    units[cell] = daily["q"].values
    amt[cell] = daily["amt"].values
    orig[cell] = daily["orig"].values
    units, amt, orig = units.reshape(S, R), amt.reshape(S, R), orig.reshape(S, R)
    sale = units > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        price = pd.DataFrame(np.where(sale, amt / units, np.nan)).ffill(axis=1).to_numpy()
        disc = pd.DataFrame(np.where(sale, 1.0 - amt / orig, np.nan)).ffill(axis=1).to_numpy()
    avail = np.zeros(S * R)
    avail[sid(inv) * R + (inv["day"].values - first)] = inv["dcs"].values
    ndc = network.groupby("region_id").size()
    availability = avail.reshape(S, R) / ndc.reindex(keys["region"].values).values[:, None]

    # lead time: each delivered line counts on the dates (order day, order day + 28] after its arrival
    arr = delivery.dropna(subset=["arr_time"]).drop_duplicates("order_id")
    arr_s = pd.Series((arr["arr_time"].values.astype("datetime64[s]") - EPOCH).astype(np.int64),
                      index=arr["order_id"].values)
    a = arr_s.reindex(o["order_id"].values).values
    ok = ~np.isnan(a)
    d = o[ok]
    a = a[ok].astype(np.int64)
    lo = np.maximum(d["day"].values + 1, a // 86400 + 1) - first
    hi = np.minimum(d["day"].values + 28 - first, R - 1)
    keep = lo <= hi
    srow = sid(d)[keep]
    secs = (a - d["ts"].values)[keep].astype(float)
    tot = np.zeros((S, R + 1))
    cnt = np.zeros((S, R + 1))
    np.add.at(tot, (srow, lo[keep]), secs)
    np.add.at(tot, (srow, hi[keep] + 1), -secs)
    np.add.at(cnt, (srow, lo[keep]), 1)
    np.add.at(cnt, (srow, hi[keep] + 1), -1)
    tot = np.cumsum(tot, axis=1)[:, :R]
    cnt = np.cumsum(cnt, axis=1)[:, :R]
    with np.errstate(divide="ignore", invalid="ignore"):
        lead = np.where(cnt > 0.5, tot / cnt / 3600.0, np.nan)

    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(units, axis=1)], axis=1)
    cols = {"avg_price": price, "avg_discount_rate": disc, "availability": availability, "lead_time_hours": lead}
    for k in (1, 7, 14, 28):
        x = np.full((S, R), np.nan)
        x[:, k:] = units[:, :-k]
        cols[f"lag_{k}"] = x
    for k in (7, 28):
        x = np.full((S, R), np.nan)
        x[:, k:] = (cs[:, k:R] - cs[:, :R - k]) / k
        cols[f"roll_mean_{k}"] = x
    dates = pd.to_datetime(np.arange(first, last + 1), unit="D")
    cal = {"dow": dates.dayofweek.values, "dom": dates.day.values, "month": dates.month.values,
           "week": dates.isocalendar().week.values.astype(np.int64)}
    exists = (avail.reshape(S, R) > 0) | sale
    si, di = np.nonzero(exists)
    out = pd.DataFrame({"sku_id": keys["sku"].values[si], "region_id": keys["region"].values[si],
                        "date": di + first, "units": units[si, di].astype(np.int64)})
    for f in FEATURES:
        out[f] = cal[f][di] if f in cal else cols[f][si, di]
    return out


def read_segcast(out):
    with h5py.File(f"{out}/results.h5", "r") as f:
        g, r = f["forecast/demand"], f["forecast/rows"]
        df = pd.DataFrame({c: g[c][:] for c in ["sku_id", "region_id", "date", "units"] + FEATURES})
        df["set"] = r["set"][:]
        df["predicted"] = r["predicted"][:]
    return df


def r2(y, p):
    return 1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--layout", default="marketplace")
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    sets = ["--set", f"input.layout={a.layout}", "--set", f"input.path={a.data}", "--set", f"run.out={a.out}"]
    if a.layout != "marketplace":
        a.skip_pandas = True
    if not os.path.exists(f"{a.out}/store.h5"):
        subprocess.run([a.bin, "ingest"] + sets, check=True, env=env, stdout=subprocess.DEVNULL)
    fc = sets + ["--set", f"forecast.rounds={a.rounds}", "--set", f"forecast.max_depth={a.depth}",
                 "--set", f"forecast.eta={a.eta}", "--set", f"forecast.max_bin={a.bins}",
                 "--set", "forecast.lambda=1", "--set", "forecast.min_child_weight=1",
                 "--set", "forecast.early_stopping_rounds=0"]
    subprocess.run([a.bin, "forecast"] + fc, check=True, env=env, stdout=subprocess.DEVNULL)
    summary = json.load(open(f"{a.out}/summary.json"))["forecast"]
    seg = read_segcast(a.out)

    print(f"{'':28s}{'segcast':>14s}{'peer':>14s}{'ratio':>10s}")
    if not a.skip_pandas:
        tables = load_marketplace(a.data)
        t = time.perf_counter()
        ref = pandas_demand(*tables)
        t_pandas = time.perf_counter() - t
        got = seg.sort_values(["sku_id", "region_id", "date"]).reset_index(drop=True)
        same = len(got) == len(ref) and all(
            np.allclose(got[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True)
            for c in ["sku_id", "region_id", "date", "units"] + FEATURES)
        t_seg = summary["seconds_demand_table"]
        print(f"{'demand table (s), pandas':28s}{t_seg:14.2f}{t_pandas:14.2f}{t_pandas / t_seg:9.1f}x"
              f"   {len(ref)} rows, tables {'equal' if same else 'DIFFER'}")

    import xgboost as xgb
    train, test = seg[seg["set"] == 0], seg[seg["set"] == 2]
    X = train[FEATURES].to_numpy(np.float32)
    y = train["units"].to_numpy(np.float32)
    params = {"tree_method": "hist", "max_depth": a.depth, "eta": a.eta, "max_bin": a.bins, "lambda": 1.0,
              "min_child_weight": 1.0, "nthread": a.threads, "base_score": float(y.mean()),
              "objective": "reg:squarederror"}
    t = time.perf_counter()
    dtrain = xgb.DMatrix(X, label=y, feature_names=FEATURES, nthread=a.threads)
    booster = xgb.train(params, dtrain, a.rounds)
    t_xgb = time.perf_counter() - t
    yt = test["units"].to_numpy(float)
    p_xgb = booster.predict(xgb.DMatrix(test[FEATURES].to_numpy(np.float32), feature_names=FEATURES))
    r2_xgb, r2_seg = r2(yt, p_xgb), r2(yt, test["predicted"].to_numpy(float))
    t_train = summary["seconds_training"]
    print(f"{'training (s), XGBoost hist':28s}{t_train:14.2f}{t_xgb:14.2f}{t_xgb / t_train:9.1f}x"
          f"   {len(train)} rows, {a.rounds} rounds, depth {a.depth}, {a.bins} bins, {a.threads} threads")
    print(f"{'test R2':28s}{r2_seg:14.4f}{r2_xgb:14.4f}{r2_seg - r2_xgb:+10.4f}   {len(test)} test rows"
          f" (seasonal-naive baseline {summary['baseline']['r2']:.4f})")
    ok = r2_seg >= r2_xgb - 0.005
    print("segcast's R2 is within 0.005 of XGBoost's" if ok else "segcast's R2 is BELOW XGBoost's minus 0.005")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
