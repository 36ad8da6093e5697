#!/usr/bin/python3
"""insights_ref.py: an independent pandas computation of segcast's insights.

Run with Debian's /usr/bin/python3 (pandas 1.5, h5py). Three commands:

  insights_ref.py fixture DIR [--seed S] [--numeric]
      writes a random lines fixture (lines.csv, sku_names.txt,
      region_names.txt) for tests/mpi/insights_driver.c: customers across
      many months, lines without a customer, orders whose lines live on
      different ranks, returns, cancellations, non-products, zero prices,
      ties in monetary, names that need CSV quoting. --numeric writes no
      name files (marketplace-style numeric ids, region -1 included).
  insights_ref.py check OUTDIR --lines DIR
  insights_ref.py check OUTDIR --online-retail FILE.csv
      recomputes every insight from the fixture, or from the raw Online
      Retail CSV with DATA.md's cleaning rules, and compares it with the
      CSVs, summary.json "insights" and results.h5 /insights in OUTDIR.
      Prints each mismatch and exits 1 when there is any.

Definitions (docs/bi.md): a valid line is a sale (DATA.md 2); a customer is
a user id with at least one valid line; an order is dated by its first
valid line; monetary is the sum of a customer's valid amounts.
"""
import argparse
import json
import math
import os
import random
import re
import sys

import numpy as np
import pandas as pd

VALID, RETURN, CANCELLED, NONPRODUCT = 1, 2, 4, 8
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EPOCH = pd.Timestamp("1970-01-01")


# ---------------------------------------------------------------- fixture
def make_fixture(out, seed, numeric):
    rnd = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    sku_names = [f"{rnd.randint(10000, 99999)}{rnd.choice(['', 'A', 'B'])}" for _ in range(36)]
    sku_names += ['22,COMMA', 'Q"UOTE', 'ZZ last', '00001']
    sku_names = list(dict.fromkeys(sku_names))  # unique, order kept (ids are not name order)
    region_names = ["United Kingdom", "Korea, Republic of", "France", "", "EIRE", "Germany"]
    prices = [0.85, 1.25, 2.55, 4.95, 12.75, 0.42, 7.5]
    day0 = (pd.Timestamp("2010-12-01") - EPOCH).days
    span = 560
    rows = []
    order_id = [1000]

    def line(user, order, sku, region, day, qty, price, flags):
        rows.append([user, order, sku, region, day, qty, qty * price, flags])

    users = rnd.sample(range(12345, 99999), 260)
    for ui, u in enumerate(users):
        region = rnd.randrange(len(region_names)) if not numeric else rnd.choice([-1, 3, 7, 11])
        n_orders = 1 if rnd.random() < 0.45 else rnd.randint(2, 9)
        start = day0 + rnd.randrange(span)
        for _ in range(n_orders):
            order_id[0] += 1
            day = min(day0 + span - 1, start + rnd.randrange(0, 200))
            for _ in range(rnd.randint(1, 5)):
                sku = rnd.randrange(len(sku_names)) if not numeric else rnd.choice([5, 17, 23, 101, 4242])
                qty = rnd.choice([1, 2, 3, 6, 12, 24])
                price = rnd.choice(prices)
                r = rnd.random()
                if r < 0.05:
                    line(u, order_id[0], sku, region, day, -qty, price, RETURN)
                elif r < 0.07:
                    line(u, order_id[0], sku, region, day, -qty, price, RETURN | CANCELLED)
                elif r < 0.09:
                    line(u, order_id[0], sku, region, day, qty, price, NONPRODUCT)
                elif r < 0.10:
                    line(u, order_id[0], sku, region, day, qty, 0.0, 0)
                else:
                    line(u, order_id[0], sku, region, day, qty, price, VALID)
    # ties in monetary: five one-line customers with the same amount
    for u in range(5, 10):
        order_id[0] += 1
        line(u, order_id[0], 0 if not numeric else 5, 0 if not numeric else 3, day0 + 100, 2, 2.55, VALID)
    # an order shared by two customers (lines of one order on two ranks)
    order_id[0] += 1
    line(users[0], order_id[0], 1 if not numeric else 17, 1 if not numeric else 3, day0 + 40, 1, 4.95, VALID)
    line(users[1], order_id[0], 2 if not numeric else 23, 1 if not numeric else 3, day0 + 41, 1, 4.95, VALID)
    # lines without a customer: orders spread over rows (ranks)
    for _ in range(60):
        order_id[0] += 1
        day = day0 + rnd.randrange(span)
        for _ in range(rnd.randint(1, 8)):
            sku = rnd.randrange(len(sku_names)) if not numeric else rnd.choice([5, 17, 23, 101])
            line(0, order_id[0], sku, 0 if not numeric else -1, day, rnd.randint(1, 30), rnd.choice(prices), VALID)
    if numeric:
        # sparse ids (a marketplace's own numbers): products and regions
        # numbered through a map, daily keys too wide for one word
        for k in range(3):
            order_id[0] += 1
            line(users[2 + k], order_id[0], 9000000000123 + 7 * k, 2000000000 - k, day0 + 7 * k, 2, 1.25, VALID)
            line(users[2 + k], order_id[0], 9000000000123, 2000000000, day0 + 7 * k, 1, 0.85, VALID)
    rnd.shuffle(rows)
    with open(os.path.join(out, "lines.csv"), "w") as f:
        f.write("row,user_id,order_id,sku,region,day,quantity,amount,flags\n")
        for i, r in enumerate(rows):
            f.write(f"{i + 2},{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]!r},{r[7]}\n")
    for name, values in (("sku_names.txt", sku_names), ("region_names.txt", region_names)):
        p = os.path.join(out, name)
        if numeric:
            if os.path.exists(p):
                os.remove(p)
            continue
        with open(p, "w") as f:
            f.write("".join(v + "\n" for v in values))


# ---------------------------------------------------------------- inputs
def lines_from_fixture(d):
    df = pd.read_csv(os.path.join(d, "lines.csv"))
    names = {}
    for col, fn in (("sku", "sku_names.txt"), ("region", "region_names.txt")):
        p = os.path.join(d, fn)
        if os.path.exists(p):
            with open(p) as f:
                vals = f.read().split("\n")[:-1]
            names[col] = vals
            df[col + "_name"] = df[col].map(lambda i: vals[i] if i >= 0 else "")
            df[col + "_key"] = df[col + "_name"]
        else:
            df[col + "_name"] = df[col].map(lambda i: str(i) if i >= 0 else "")
            df[col + "_key"] = df[col]
    out = pd.DataFrame({
        "user": df["user_id"].astype(np.int64), "order": df["order_id"].astype(np.int64),
        "sku": df["sku_name"], "sku_key": df["sku_key"], "region": df["region_name"], "region_key": df["region_key"],
        "day": df["day"].astype(np.int64), "qty": df["quantity"].astype(np.int64), "amount": df["amount"],
        "valid": (df["flags"] & VALID) != 0, "ret": (df["flags"] & RETURN) != 0})
    return out


def lines_from_online_retail(path, outdir):
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="replace")
    raw.columns = [{"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}.get(c, c)
                   for c in raw.columns]
    raw["line"] = np.arange(len(raw)) + 2  # header is line 1; this file has no quoted newlines
    rej = os.path.join(outdir, "rejects.csv")
    if os.path.exists(rej):
        r = pd.read_csv(rej, dtype=str, keep_default_na=False)
        if len(r):
            bad = set(r["line"].astype(int))
            raw = raw[~raw["line"].isin(bad)]
    qty = raw["Quantity"].astype(np.int64)
    price = raw["Price"].astype(float)
    inv = raw["Invoice"]
    cancelled = inv.str.startswith("C")
    product = raw["StockCode"].str.match(r"^[0-9]{5}")
    valid = (qty > 0) & (price > 0) & ~cancelled & product
    cid = raw["Customer ID"]
    user = cid.map(lambda s: int(float(s)) if s != "" else 0)
    ts = pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    alt = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M", errors="coerce")
    ts = ts.fillna(alt)
    day = (ts.dt.normalize() - EPOCH).dt.days
    order = inv.str.replace(r"^[A-Za-z]+", "", regex=True).map(lambda s: int(s) if s.isdigit() else -1)
    return pd.DataFrame({
        "user": user.astype(np.int64).values, "order": order.astype(np.int64).values,
        "sku": raw["StockCode"].values, "sku_key": raw["StockCode"].values,
        "region": raw["Country"].values, "region_key": raw["Country"].values,
        "day": day.astype(np.int64).values, "qty": qty.values, "amount": (qty * price).values,
        "valid": valid.values, "ret": (qty < 0).values})


# ---------------------------------------------------------------- reference
def month_index(day):
    d = EPOCH + pd.to_timedelta(day, unit="D")
    return d.dt.year * 12 + d.dt.month - 1


def iso_month(mi):
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}-01"


def compute(df):
    r = {}
    v = df[df["valid"]].copy()
    v["mi"] = month_index(v["day"])
    v["dow"] = (EPOCH + pd.to_timedelta(v["day"], unit="D")).dt.dayofweek
    cust = v[v["user"] != 0]
    revenue = v["amount"].sum()
    orders = v.groupby("order")["day"].min()
    r["kpis"] = {
        "revenue": revenue, "orders": len(orders), "customers": cust["user"].nunique(),
        "avg_order_value": revenue / len(orders) if len(orders) else 0.0,
        "return_rate": df["ret"].sum() / len(v) if len(v) else 0.0,
        "valid_lines": len(v), "return_lines": int(df["ret"].sum()), "units": int(v["qty"].sum()),
        "returned_value": -df.loc[df["ret"], "amount"].sum(), "customer_revenue": cust["amount"].sum()}
    m0, m1 = int(v["mi"].min()), int(v["mi"].max())
    months = pd.RangeIndex(m0, m1 + 1)
    first = cust.groupby("user")["mi"].min()
    om = month_index(pd.Series(orders.values))
    od = (EPOCH + pd.to_timedelta(pd.Series(orders.values), unit="D")).dt.dayofweek
    monthly = pd.DataFrame({
        "month": [iso_month(m) for m in months],
        "revenue": v.groupby("mi")["amount"].sum().reindex(months, fill_value=0).values,
        "orders": om.value_counts().reindex(months, fill_value=0).values,
        "customers": cust.groupby("mi")["user"].nunique().reindex(months, fill_value=0).values,
        "new_customers": first.value_counts().reindex(months, fill_value=0).values,
        "units": v.groupby("mi")["qty"].sum().reindex(months, fill_value=0).values,
        "lines": v.groupby("mi").size().reindex(months, fill_value=0).values})
    r["monthly_revenue.csv"] = monthly
    moy = v["mi"] % 12
    sm = pd.DataFrame({"month_of_year": range(1, 13), "month_name": MONTHS})
    sm["revenue"] = v.groupby(moy)["amount"].sum().reindex(range(12), fill_value=0).values
    sm["revenue_share"] = sm["revenue"] / revenue
    sm["orders"] = (om % 12).value_counts().reindex(range(12), fill_value=0).values
    sm["units"] = v.groupby(moy)["qty"].sum().reindex(range(12), fill_value=0).values
    r["seasonality_month.csv"] = sm
    sw = pd.DataFrame({"weekday": range(7), "weekday_name": WEEKDAYS})
    sw["revenue"] = v.groupby("dow")["amount"].sum().reindex(range(7), fill_value=0).values
    sw["revenue_share"] = sw["revenue"] / revenue
    sw["orders"] = od.value_counts().reindex(range(7), fill_value=0).values
    sw["units"] = v.groupby("dow")["qty"].sum().reindex(range(7), fill_value=0).values
    r["seasonality_weekday.csv"] = sw
    # cohorts: share of each first-purchase month active k months later
    act = cust[["user", "mi"]].drop_duplicates()
    act = act.join(first.rename("first"), on="user")
    act["k"] = act["mi"] - act["first"]
    counts = act.groupby(["first", "k"]).size()
    rows = []
    for c in sorted(first.unique()):
        size = int(counts.get((c, 0), 0))
        for k in range(0, m1 - c + 1):
            a = int(counts.get((c, k), 0))
            rows.append([iso_month(c), k, size, a, a / size])
    r["cohort_retention.csv"] = pd.DataFrame(rows, columns=["cohort_month", "months_since", "cohort_customers",
                                                            "active_customers", "retention"])
    ret = {}
    for k in (1, 3, 6):
        ok = [c for c in first.unique() if c + k <= m1]
        size = sum(int(counts.get((c, 0), 0)) for c in ok)
        ret[f"month_{k}"] = sum(int(counts.get((c, k), 0)) for c in ok) / size if size else None
    r["cohort_retention"] = ret
    # concentration
    mon = np.sort(cust.groupby("user")["amount"].sum().values)
    n, tot = len(mon), mon.sum()
    csum = np.concatenate([[0.0], np.cumsum(mon)])
    lor = []
    for i in range(101):
        b = i * n // 100
        lor.append([f"{i / 100:.2f}", b, csum[b] / tot])
    r["lorenz.csv"] = pd.DataFrame(lor, columns=["customer_share", "customers", "revenue_share"])
    conc, crow = {"customers": n}, []
    for p in (1, 5, 10, 20):
        k = -(-p * n // 100)
        top = mon[::-1][:k].sum()
        conc[f"top_{p}_pct"] = top / tot
        crow.append([p, k, top, top / tot])
    conc["bottom_50_pct"] = csum[50 * n // 100] / tot
    r["concentration"] = conc
    r["revenue_concentration.csv"] = pd.DataFrame(crow, columns=["top_pct", "customers", "revenue", "revenue_share"])
    # top lists
    for key, name, fn in (("sku", "sku_id", "top_products.csv"), ("region", "region_id", "top_regions.csv")):
        g = v.groupby(key).agg(revenue=("amount", "sum"), units=("qty", "sum"), lines=("qty", "size"))
        g["customers"] = cust.groupby(key)["user"].nunique().reindex(g.index, fill_value=0)
        g = g.sort_values("revenue", ascending=False, kind="mergesort").head(25)
        g.insert(0, name, g.index)
        g.insert(0, "rank", range(1, len(g) + 1))
        g.insert(3, "revenue_share", g["revenue"] / revenue)
        r[fn] = g.reset_index(drop=True)
    # daily fact table, sorted by date, then sku and region as users see them
    d = v.groupby(["day", "sku_key", "region_key"], sort=True).agg(
        sku_id=("sku", "first"), region_id=("region", "first"), units=("qty", "sum"),
        revenue=("amount", "sum")).reset_index()
    d.insert(0, "date", (EPOCH + pd.to_timedelta(d["day"], unit="D")).dt.strftime("%Y-%m-%d"))
    r["daily_sales.csv"] = d[["date", "sku_id", "region_id", "units", "revenue"]]
    pm = int(sm["revenue"].values.argmax())
    pw = int(sw["revenue"].values.argmax())
    r["seasonality"] = {"peak_month": pm + 1, "peak_month_name": MONTHS[pm], "peak_weekday": pw,
                        "peak_weekday_name": WEEKDAYS[pw],
                        "peak_calendar_month": monthly["month"].values[int(monthly["revenue"].values.argmax())]}
    return r


# ---------------------------------------------------------------- compare
class Checker:
    def __init__(self):
        self.bad = 0
        self.checked = 0

    def fail(self, msg):
        self.bad += 1
        if self.bad <= 40:
            print("MISMATCH:", msg)

    def num(self, what, got, want, money=False):
        self.checked += 1
        if want is None or got is None:
            if want is not got:
                self.fail(f"{what}: got {got}, want {want}")
            return
        tol = (0.005 + 1e-9 * abs(want)) if money else 2e-6
        if isinstance(want, (int, np.integer)) and not money:
            tol = 0
        if not (abs(float(got) - float(want)) <= tol):
            self.fail(f"{what}: got {got}, want {want}")

    def text(self, what, got, want):
        self.checked += 1
        if str(got) != str(want):
            self.fail(f"{what}: got {got!r}, want {want!r}")

    def table(self, name, got, want, money_cols=(), text_cols=()):
        if list(got.columns) != list(want.columns):
            self.fail(f"{name}: columns {list(got.columns)}, want {list(want.columns)}")
            return
        if len(got) != len(want):
            self.fail(f"{name}: {len(got)} rows, want {len(want)}")
            return
        for c in want.columns:
            g, w = got[c].values, want[c].values
            if c in text_cols:
                diff = [i for i in range(len(w)) if str(g[i]) != str(w[i])]
                for i in diff[:5]:
                    self.fail(f"{name} row {i} {c}: got {g[i]!r}, want {w[i]!r}")
                self.checked += len(w)
                continue
            g = g.astype(float)
            w = w.astype(float)
            tol = (0.005 + 1e-9 * np.abs(w)) if c in money_cols else (2e-6 if w.dtype.kind == "f" else 0)
            if not np.issubdtype(want[c].dtype, np.floating) and c not in money_cols:
                tol = 0
            bad = np.where(~(np.abs(g - w) <= tol))[0]
            for i in bad[:5]:
                self.fail(f"{name} row {i} {c}: got {g[i]}, want {w[i]}")
            self.checked += len(w)


def read_out(outdir, fn, text_cols):
    return pd.read_csv(os.path.join(outdir, fn), dtype={c: str for c in text_cols}, keep_default_na=False)


def check(outdir, ref):
    ck = Checker()
    txt = {"monthly_revenue.csv": ["month"], "seasonality_month.csv": ["month_name"],
           "seasonality_weekday.csv": ["weekday_name"], "cohort_retention.csv": ["cohort_month"],
           "lorenz.csv": ["customer_share"], "revenue_concentration.csv": [],
           "top_products.csv": ["sku_id"], "top_regions.csv": ["region_id"],
           "daily_sales.csv": ["date", "sku_id", "region_id"]}
    money = ["revenue"]
    for fn, tc in txt.items():
        got = read_out(outdir, fn, tc)
        want = ref[fn]
        if fn in ("top_products.csv", "top_regions.csv"):
            # equal revenues may come in either order: compare by name
            idc = tc[0]
            if set(got[idc]) != set(want[idc]) and len(got) == len(want):
                # a tie at the cut may swap the last names; the revenues must still agree
                ck.num(f"{fn} revenue at the cut", got["revenue"].iloc[-1], want["revenue"].iloc[-1], money=True)
            ck.table(fn, got.drop(columns=[idc]), want.drop(columns=[idc]), money)
            w = want.set_index(idc)
            for _, row in got.iterrows():
                if row[idc] in w.index:
                    ck.num(f"{fn} {row[idc]} revenue", row["revenue"], w.loc[row[idc], "revenue"], money=True)
            continue
        ck.table(fn, got, want, money, tc)
    with open(os.path.join(outdir, "summary.json")) as f:
        ins = json.load(f)["insights"]
    for k, w in ref["kpis"].items():
        ck.num(f"kpis.{k}", ins["kpis"][k], w, money=k in ("revenue", "returned_value", "customer_revenue"))
    for k, w in ref["concentration"].items():
        ck.num(f"concentration.{k}", ins["concentration"][k], w)
    for k, w in ref["cohort_retention"].items():
        ck.num(f"cohort_retention.{k}", ins["cohort_retention"][k], w)
    for k, w in ref["seasonality"].items():
        ck.text(f"seasonality.{k}", ins["seasonality"][k], w)
    ck.num("daily_sales_rows", ins["daily_sales_rows"], len(ref["daily_sales.csv"]))
    # results.h5 holds the same tables
    try:
        import h5py
        with h5py.File(os.path.join(outdir, "results.h5"), "r") as h:
            g = h["insights"]
            mr = ref["monthly_revenue.csv"]
            ck.num("h5 monthly rows", len(g["monthly_revenue/revenue"]), len(mr))
            for c in ("revenue", "orders", "customers", "new_customers", "units"):
                got = np.asarray(g["monthly_revenue/" + c])
                for i in range(len(mr)):
                    ck.num(f"h5 monthly {c}[{i}]", got[i], mr[c].values[i], money=c == "revenue")
            ds = ref["daily_sales.csv"]
            ck.num("h5 daily rows", len(g["daily_sales/units"]), len(ds))
            ck.num("h5 daily units", int(np.asarray(g["daily_sales/units"]).sum()), int(ds["units"].sum()))
            ck.num("h5 daily revenue", float(np.asarray(g["daily_sales/revenue"]).sum()), ds["revenue"].sum(),
                   money=True)
            dd = np.asarray(g["daily_sales/day"])
            want_days = (pd.to_datetime(ds["date"]) - EPOCH).dt.days.values
            ck.num("h5 daily days in order", int((dd != want_days).sum()), 0)
            names = g["top_products/names"] if "top_products" in g else None
            if names is not None:
                blob = bytes(np.asarray(names["bytes"]))
                ends = np.asarray(names["ends"])
                first = blob[:ends[0]].decode() if len(ends) else ""
                ck.text("h5 top product name", first, read_out(outdir, "top_products.csv", ["sku_id"])["sku_id"][0])
    except ImportError:
        print("note: h5py missing; results.h5 not checked")
    print(f"insights_ref: {ck.checked} values compared, {ck.bad} mismatches")
    return ck.bad == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("dir")
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--numeric", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("outdir")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--lines")
    g.add_argument("--online-retail")
    a = ap.parse_args()
    if a.cmd == "fixture":
        make_fixture(a.dir, a.seed, a.numeric)
        return 0
    df = lines_from_fixture(a.lines) if a.lines else lines_from_online_retail(a.online_retail, a.outdir)
    return 0 if check(a.outdir, compute(df)) else 1


if __name__ == "__main__":
    sys.exit(main())
