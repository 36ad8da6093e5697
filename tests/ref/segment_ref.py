"""Independent reference for customer features, RFM scores and segments.

Written from DATA.md 2-4 with pandas; it never calls segcast. It reads
the raw input, applies the cleaning rules, computes every customer's
features, the quintile scores (global rank by (value, user id)) and the
rule-based segment, and compares them customer by customer with segcast's
customer_segments.csv. Exits 1 on any difference.

Usage:
  segment_ref.py online-retail FILE SEGMENTS_CSV [--as-of YYYY-MM-DD]
  segment_ref.py cdnow FILE SEGMENTS_CSV [--as-of ...]
      (transactions layout: customer_id, date, number_of_cds, dollar_value)
  segment_ref.py marketplace DIR SEGMENTS_CSV [--as-of ...]
      (users.csv, orders.csv, clicks.csv of the marketplace layout)
  segment_ref.py driver DIR SEGMENTS_CSV marketplace|transactions [--as-of ...]
      (the raw dumps lines_*.csv, users_*.csv, clicks_*.csv written by
       tests/mpi/segment_driver; days are days since 1970-01-01)

Rules this file implements (DATA.md): a line is valid when quantity > 0
and the final unit price > 0 (transactions: amount > 0 and, with a
quantity column, quantity > 0; online-retail also: invoice not starting
with C and a stock code starting with five digits). as_of defaults to the
latest valid line's date + 1 day; lines dated on or after as_of are not
counted (docs/segmentation.md). Money is compared to 1e-6, counts and
scores exactly.
"""
import glob
import os
import sys

import numpy as np
import pandas as pd

EPOCH = pd.Timestamp("1970-01-01")

SEGMENTS = [
    ("Champions", {5}, {4, 5}),
    ("Loyal Customers", {3, 4}, {4, 5}),
    ("Potential Loyalists", {4, 5}, {2, 3}),
    ("New Customers", {5}, {1}),
    ("Promising", {4}, {1}),
    ("Need Attention", {3}, {3}),
    ("About to Sleep", {3}, {1, 2}),
    ("Can't Lose Them", {1, 2}, {5}),
    ("At Risk", {1, 2}, {3, 4}),
    ("Hibernating", {1, 2}, {1, 2}),
]


def days(series):
    """Dates (text) -> whole days since 1970-01-01 of their calendar date."""
    d = pd.to_datetime(series.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = d.isna()
    if bad.any():  # M/D/YYYY H:MM
        d2 = pd.to_datetime(series[bad].str.split(" ").str[0], format="%m/%d/%Y")
        d[bad] = d2
    return ((d - EPOCH).dt.days).astype(np.int64)


def load_online_retail(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df.rename(columns={"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"})
    qty = pd.to_numeric(df["Quantity"]).astype(np.int64)
    price = pd.to_numeric(df["UnitPrice"])
    user = pd.to_numeric(df["CustomerID"].replace("", "0")).astype(np.int64)
    valid = (qty > 0) & (price > 0) & ~df["InvoiceNo"].str.startswith("C") & df["StockCode"].str.match(r"^[0-9]{5}")
    return pd.DataFrame({
        "user": user, "order": df["InvoiceNo"], "sku": df["StockCode"], "day": days(df["InvoiceDate"]),
        "qty": qty, "amount": qty * price, "orig": qty * price, "valid": valid, "ret": qty < 0,
    }), None, None


def load_cdnow(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    qty = pd.to_numeric(df["number_of_cds"]).astype(np.int64)
    amount = pd.to_numeric(df["dollar_value"])
    return pd.DataFrame({
        "user": df["customer_id"].astype(np.int64), "order": np.arange(len(df)), "sku": None,
        "day": days(df["date"]), "qty": qty, "amount": amount, "orig": amount,
        "valid": (amount > 0) & (qty > 0), "ret": (amount < 0) | (qty < 0),
    }), None, None


def load_marketplace(folder):
    o = pd.read_csv(os.path.join(folder, "orders.csv"), dtype=str, keep_default_na=False)
    qty = pd.to_numeric(o["quantity"]).astype(np.int64)
    fin = pd.to_numeric(o["final_unit_price"])
    orig = pd.to_numeric(o["original_unit_price"])
    lines = pd.DataFrame({
        "user": o["user_id"].astype(np.int64), "order": o["order_id"].astype(np.int64),
        "sku": o["sku_id"].astype(np.int64), "day": days(o["order_time"]), "qty": qty,
        "amount": qty * fin, "orig": qty * orig, "valid": (qty > 0) & (fin > 0), "ret": qty < 0,
    })
    u = pd.read_csv(os.path.join(folder, "users.csv"), dtype=str, keep_default_na=False)
    u = u.drop_duplicates("user_id", keep="first")  # a repeated user_id: the later row is rejected
    created = u["created_at"].where(u["created_at"] != "")
    users = pd.DataFrame({"user": u["user_id"].astype(np.int64),
                          "created": pd.to_datetime(created, format="%Y-%m-%d").sub(EPOCH).dt.days})
    clicks = None
    cp = os.path.join(folder, "clicks.csv")
    if os.path.exists(cp):
        c = pd.read_csv(cp, dtype=str, keep_default_na=False)
        clicks = pd.DataFrame({"user": c["user_id"].astype(np.int64), "day": days(c["ts"])})
    return lines, users, clicks


def load_driver(folder, layout):
    raw = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(os.path.join(folder, "lines_*.csv")))])
    market = layout == "marketplace"
    lines = pd.DataFrame({
        "user": raw["user_id"], "order": raw["order_id"], "sku": raw["sku"] if market else None,
        "day": raw["day"], "qty": raw["quantity"], "amount": raw["quantity"] * raw["final_price"],
        "orig": raw["quantity"] * raw["orig_price"],
        "valid": (raw["quantity"] > 0) & (raw["final_price"] > 0), "ret": raw["quantity"] < 0,
    })
    users = clicks = None
    if market:
        u = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(os.path.join(folder, "users_*.csv")))])
        users = pd.DataFrame({"user": u["user_id"], "created": u["created_day"]})
        c = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(os.path.join(folder, "clicks_*.csv")))])
        clicks = pd.DataFrame({"user": c["user_id"], "day": c["day"]})
    return lines, users, clicks


def features(lines, users, clicks, as_of, layout):
    if as_of is None:
        as_of = int(lines.loc[lines["valid"], "day"].max()) + 1
    before = lines[(lines["user"] > 0) & (lines["day"] < as_of)]
    v = before[before["valid"]]
    g = v.groupby("user")
    f = pd.DataFrame({
        "last": g["day"].max(), "first": g["day"].min(), "frequency": g["order"].nunique(),
        "monetary_raw": g["amount"].sum(), "orig_raw": g["orig"].sum(),
    })
    f["recency_days"] = as_of - f["last"]
    f["monetary"] = f["monetary_raw"]
    if lines["sku"].notna().any():
        f["product_diversity"] = g["sku"].nunique()
    f["avg_order_value"] = f["monetary_raw"] / f["frequency"]
    f["purchase_span_days"] = f["last"] - f["first"]
    since = f["first"].copy()
    if users is not None:
        created = users.set_index("user")["created"].reindex(f.index)
        since = created.where(created.notna(), f["first"])
    f["tenure_days"] = (as_of - since).astype(np.int64)
    if layout == "marketplace":
        f["avg_discount_rate"] = 1 - f["monetary_raw"] / f["orig_raw"]
        if clicks is not None:
            c = clicks[(clicks["day"] >= as_of - 90) & (clicks["day"] < as_of)]
            f["clicks_90d"] = c.groupby("user").size().reindex(f.index, fill_value=0)
    f["return_lines"] = before[before["ret"]].groupby("user").size().reindex(f.index, fill_value=0)
    f.index.name = "user_id"
    # RFM: global rank by (value, user id), quintiles
    n = len(f)
    uid = f.index.to_numpy()

    def score(values):
        order = np.lexsort((uid, values))
        r = np.empty(n, dtype=np.int64)
        r[order] = np.arange(1, n + 1)
        return 5 * (r - 1) // n

    f["r_score"] = 5 - score(f["recency_days"].to_numpy())
    f["f_score"] = 1 + score(f["frequency"].to_numpy())
    f["m_score"] = 1 + score(np.round(f["monetary_raw"].to_numpy(), 6))
    f["rfm_score"] = f["r_score"] * 100 + f["f_score"] * 10 + f["m_score"]
    seg = []
    for r, fs in zip(f["r_score"], f["f_score"]):
        seg.append(next(name for name, rs, fset in SEGMENTS if r in rs and fs in fset))
    f["rfm_segment"] = seg
    return f, as_of


def compare(ref, path):
    got = pd.read_csv(path, keep_default_na=False).set_index("user_id")
    ok = True
    if list(got.index) != sorted(got.index):
        print("BAD customer_segments.csv is not sorted by user_id")
        ok = False
    missing = ref.index.difference(got.index)
    extra = got.index.difference(ref.index)
    if len(missing) or len(extra):
        print(f"BAD customers: {len(missing)} missing (e.g. {list(missing[:5])}), {len(extra)} extra "
              f"(e.g. {list(extra[:5])})")
        return False
    print(f"ok  customers: {len(got)}")
    ref = ref.reindex(got.index)
    cols = ["recency_days", "frequency", "monetary", "product_diversity", "avg_order_value",
            "purchase_span_days", "tenure_days", "avg_discount_rate", "clicks_90d", "return_lines",
            "r_score", "f_score", "m_score", "rfm_score", "rfm_segment"]
    for c in cols:
        if c not in ref.columns:
            if c in got.columns:
                print(f"BAD {c}: segcast writes it, the layout does not have it")
                ok = False
            continue
        if c not in got.columns:
            print(f"BAD {c}: missing from customer_segments.csv")
            ok = False
            continue
        a, b = got[c], ref[c]
        if c in ("monetary", "avg_order_value", "avg_discount_rate"):
            bad = ~np.isclose(a.astype(float), b.astype(float), rtol=0, atol=1.01e-6)
        else:
            bad = a.astype(str) != b.astype(str)
        nbad = int(bad.sum())
        if nbad:
            ex = got.index[bad.to_numpy()][:5]
            print(f"BAD {c}: {nbad} customers differ, e.g. " +
                  ", ".join(f"{u}: segcast {a[u]} reference {b[u]}" for u in ex))
            ok = False
        else:
            print(f"ok  {c}: all {len(got)} customers equal")
    return ok


def main():
    args = sys.argv[1:]
    as_of = None
    if "--as-of" in args:
        i = args.index("--as-of")
        as_of = int((pd.Timestamp(args[i + 1]) - EPOCH).days)
        del args[i:i + 2]
    kind, src, seg = args[:3]
    if kind == "online-retail":
        lines, users, clicks = load_online_retail(src)
        layout = kind
    elif kind == "cdnow":
        lines, users, clicks = load_cdnow(src)
        layout = "transactions"
    elif kind == "marketplace":
        lines, users, clicks = load_marketplace(src)
        layout = kind
    else:
        layout = args[3]
        lines, users, clicks = load_driver(src, layout)
    ref, as_of = features(lines, users, clicks, as_of, layout)
    print(f"reference: {len(ref)} customers, as_of day {as_of} ({EPOCH + pd.Timedelta(days=as_of):%Y-%m-%d})")
    sys.exit(0 if compare(ref, seg) else 1)


if __name__ == "__main__":
    main()
