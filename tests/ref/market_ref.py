"""Independent reference for a marketplace ingest (pandas, from DATA.md 1a, 2, 7).

Usage: market_ref.py DATA_DIR STORE_H5 SUMMARY_JSON

Recomputes from the CSV files what the store must hold and compares it,
row by row, with segcast's store (read with h5py):
  lines:     user, order, sku, region (dc_ori -> network, -1 when unknown),
             day, seconds, quantity, amount = q x final, orig = q x original,
             arrival (first delivery row of the order that has an arr_time),
             flags (valid, return);
  users:     created day, age, gender, city level; later duplicates dropped;
  clicks:    user, sku, day;
  inventory: per (sku, region, day) the number of the region's DCs with flag 1;
  summary:   per-file read/loaded/rejected and the sales counts.
Exits 1 on any difference.
"""
import json
import sys

import h5py
import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01")


def days(s):
    return ((pd.to_datetime(s).values.astype("datetime64[D]") - EPOCH).astype(np.int64)).astype(np.int32)


def secs(s):
    t = pd.to_datetime(s)
    return (t.dt.hour * 3600 + t.dt.minute * 60 + t.dt.second).values.astype(np.int32)


def column(d):
    """A store column; doubles of decimals are stored as integers of 10^-decimals."""
    v = d[:]
    return v / 10 ** int(d.attrs["decimals"]) if "decimals" in d.attrs else v


def table(f, name):
    g = f[name]
    return {k: column(g[k]) for k in g}


def main():
    d, store, summary = sys.argv[1:4]
    ok = True

    def check(what, cond):
        nonlocal ok
        print(("ok  " if cond else "BAD ") + what)
        ok &= bool(cond)

    net = pd.read_csv(f"{d}/network.csv", dtype=str, keep_default_na=False)
    net = net[~net["dc_id"].duplicated()]  # a later duplicate dc_id is rejected
    dc_region = dict(zip(net["dc_id"].astype(np.int64), net["region_id"].astype(np.int32)))
    files = ["network.csv", "users.csv", "orders.csv", "delivery.csv", "clicks.csv", "inventory.csv", "skus.csv"]
    fidx = {n: i for i, n in enumerate(files)}

    o = pd.read_csv(f"{d}/orders.csv", dtype=str, keep_default_na=False)
    o["line"] = np.arange(len(o)) + 2
    q = o["quantity"].astype(np.int64)
    fin = o["final_unit_price"].astype(float)
    orig = o["original_unit_price"].astype(float)
    dl = pd.read_csv(f"{d}/delivery.csv", dtype=str, keep_default_na=False)
    dl = dl[dl["arr_time"] != ""]
    dl = dl[~dl["order_id"].duplicated()]  # first row with an arrival
    arr = pd.to_datetime(dl["arr_time"])
    arr_ts = dict(zip(dl["order_id"].astype(np.int64), (arr.values.astype("datetime64[s]") - EPOCH.astype("datetime64[s]")).astype(np.int64)))
    ref = pd.DataFrame({
        "row": (fidx["orders.csv"] << 40) | o["line"].values,
        "user_id": o["user_id"].astype(np.int64).values,
        "order_id": o["order_id"].astype(np.int64).values,
        "sku": o["sku_id"].astype(np.int64).values,
        "region": o["dc_ori"].astype(np.int64).map(lambda x: dc_region.get(x, -1)).astype(np.int32).values,
        "day": days(o["order_time"]),
        "sec": secs(o["order_time"]),
        "quantity": q.values.astype(np.int32),
        "amount": (q * fin).values,
        "orig_amount": (q * orig).values,
        "arr_ts": o["order_id"].astype(np.int64).map(lambda x: arr_ts.get(x, np.iinfo(np.int64).min)).values,
        "flags": (((q > 0) & (fin > 0)).astype(np.uint8) + 2 * (q < 0).astype(np.uint8)).values.astype(np.uint8),
    }).sort_values("row")

    f = h5py.File(store, "r")
    lines = table(f, "lines")
    order = np.argsort(lines["row"], kind="stable")
    for k in ref.columns:
        got = lines[k][order]
        want = ref[k].values
        same = np.allclose(got, want, rtol=0, atol=1e-9) if got.dtype.kind == "f" else np.array_equal(got, want)
        check(f"lines.{k} ({len(want)} rows)", len(got) == len(want) and same)

    u = pd.read_csv(f"{d}/users.csv", dtype=str, keep_default_na=False)
    u = u[~u["user_id"].astype(np.int64).duplicated()]
    users = table(f, "users")
    uo = np.argsort(users["user_id"], kind="stable")
    nan_day = np.iinfo(np.int32).min
    created = np.where(u["created_at"] == "", nan_day, days(u["created_at"].replace("", "1970-01-01")))
    check("users.user_id", np.array_equal(users["user_id"][uo], np.sort(u["user_id"].astype(np.int64).values)))
    uu = u.assign(uid=u["user_id"].astype(np.int64), cd=created).sort_values("uid")
    check("users.created_day", np.array_equal(users["created_day"][uo], uu["cd"].values.astype(np.int32)))
    age = np.where(uu["age"] == "", nan_day, pd.to_numeric(uu["age"].replace("", "0"))).astype(np.int32)
    check("users.age", np.array_equal(users["age"][uo], age))
    gender = np.array([ord(g) if g else 0 for g in uu["gender"]], dtype=np.uint8)
    check("users.gender", np.array_equal(users["gender"][uo], gender))

    c = pd.read_csv(f"{d}/clicks.csv", dtype=str, keep_default_na=False)
    clicks = table(f, "clicks")
    co = np.argsort(clicks["row"], kind="stable")
    check("clicks.user_id", np.array_equal(clicks["user_id"][co], c["user_id"].astype(np.int64).values))
    check("clicks.day", np.array_equal(clicks["day"][co], days(c["ts"])))

    inv = pd.read_csv(f"{d}/inventory.csv", dtype=str, keep_default_na=False)
    inv["region"] = inv["dc_id"].astype(np.int64).map(lambda x: dc_region.get(x, -1))
    inv = inv[inv["region"] >= 0]
    inv["flag"] = inv["available_flag"].astype(np.int32)
    inv["sku"] = inv["sku_id"].astype(np.int64)
    inv["day"] = days(inv["date"])
    agg = inv.groupby(["sku", "region", "day"], as_index=False)["flag"].sum().sort_values(["sku", "region", "day"])
    it = table(f, "inventory")
    io = np.lexsort((it["day"], it["region"], it["sku"]))
    check("inventory rows", len(io) == len(agg))
    for k, col in (("sku", "sku"), ("region", "region"), ("day", "day"), ("available_dcs", "flag")):
        check(f"inventory.{k}", len(io) == len(agg) and np.array_equal(it[k][io], agg[col].values.astype(it[k].dtype)))

    s = json.load(open(summary))
    valid = (q > 0) & (fin > 0)
    check("sales.valid_lines", s["sales"]["valid_lines"] == int(valid.sum()))
    check("sales.return_lines", s["sales"]["return_lines"] == int((q < 0).sum()))
    check("sales.revenue", abs(s["sales"]["revenue"] - float((q * fin)[valid].sum())) < 0.01)
    for name in files:
        cnt = s["input"]["files"][name]
        check(f"{name}: read = loaded + rejected", cnt["read"] == cnt["loaded"] + cnt["rejected"])
    check("orders.csv read", s["input"]["files"]["orders.csv"]["read"] == len(o))
    check("users.csv rejects = duplicates", s["input"]["files"]["users.csv"]["rejected"] ==
          int(pd.read_csv(f"{d}/users.csv", dtype=str)["user_id"].astype(np.int64).duplicated().sum()))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
