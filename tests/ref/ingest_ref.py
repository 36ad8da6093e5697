"""Independent reference for ingest counts (pandas, written from DATA.md 2).

Usage: ingest_ref.py online-retail FILE SUMMARY_JSON
       ingest_ref.py cdnow FILE SUMMARY_JSON

Reads the CSV with pandas (every column as text, so no float conversion
hides a malformed value), derives the counts DATA.md 2 defines, and
compares them with segcast's summary.json. Exits 1 on any difference.
"""
import json
import sys

import pandas as pd


def retail(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    inv = df["InvoiceNo"]
    qty = pd.to_numeric(df["Quantity"])
    price = pd.to_numeric(df["UnitPrice"])
    cancelled = inv.str.startswith("C")
    product = df["StockCode"].str.match(r"^[0-9]{5}")
    valid = (qty > 0) & (price > 0) & ~cancelled & product
    revenue = (qty * price)[valid]
    return {
        "read": len(df),
        "valid_lines": int(valid.sum()),
        "return_lines": int((qty < 0).sum()),
        "cancelled_lines": int(cancelled.sum()),
        "lines_without_user": int((df["CustomerID"] == "").sum()),
        "revenue": float(revenue.sum()),
    }


def cdnow(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    qty = pd.to_numeric(df["number_of_cds"])
    amount = pd.to_numeric(df["dollar_value"])
    valid = (amount > 0) & (qty > 0)
    return {
        "read": len(df),
        "valid_lines": int(valid.sum()),
        "return_lines": int(((amount < 0) | (qty < 0)).sum()),
        "cancelled_lines": 0,
        "lines_without_user": 0,
        "revenue": float(amount[valid].sum()),
    }


def main():
    kind, path, summary = sys.argv[1:4]
    ref = retail(path) if kind == "online-retail" else cdnow(path)
    s = json.load(open(summary))
    files = s["input"]["files"]
    (name, counts), = files.items()
    ok = True

    def check(what, got, want, tol=0.0):
        nonlocal ok
        good = abs(got - want) <= tol if tol else got == want
        print(f"{'ok ' if good else 'BAD'} {what}: segcast {got} reference {want}")
        ok &= good

    check("rows read", counts["read"], ref["read"])
    check("rows rejected", counts["rejected"], 0)
    check("read = loaded + rejected", counts["read"], counts["loaded"] + counts["rejected"])
    for k in ("valid_lines", "return_lines", "cancelled_lines", "lines_without_user"):
        check(k, s["sales"][k], ref[k])
    check("revenue", s["sales"]["revenue"], ref["revenue"], tol=0.005)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
