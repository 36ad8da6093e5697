"""Independent reference of the demand table (DATA.md 6-7), pandas + numpy.

Usage: demand_ref.py online-retail FILE.csv OUT_DIR
       demand_ref.py marketplace DATA_DIR OUT_DIR
       demand_ref.py --time online-retail|marketplace INPUT   (bench: build only, print seconds)

Reads the raw input CSVs itself (not segcast's store), applies the cleaning
rules of DATA.md 2 and the demand rules of DATA.md 6-7, and compares the
result row by row with segcast's table in OUT_DIR/results.h5
(/forecast/demand; sku text from OUT_DIR/store.h5 /dict/sku for the
online-retail layout). Exits 1 on any difference.

The computation works on a dense (series x day) grid over the data's date
range: lags are shifts along the day axis, rolling means differences of a
cumulative sum, the lead time a loop over the 28 days each delivered line
counts for. It shares no code or structure with segcast's demand.c.
"""
import sys
import time

import numpy as np
import pandas as pd

FEATURES = ["avg_price", "avg_discount_rate", "availability", "lead_time_hours", "dow", "dom", "month", "week",
            "lag_1", "lag_7", "lag_14", "lag_28", "roll_mean_7", "roll_mean_28"]
EPOCH = pd.Timestamp("1970-01-01")


def days_of(ts):
    """Calendar day numbers (days since 1970-01-01) of a datetime Series."""
    return ((ts.dt.normalize() - EPOCH).dt.days).astype(np.int64)


def lines_online_retail(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df.rename(columns={"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"})
    q = pd.to_numeric(df["Quantity"])
    price = pd.to_numeric(df["UnitPrice"])
    valid = (q > 0) & (price > 0) & ~df["InvoiceNo"].str.startswith("C") & df["StockCode"].str.match(r"^[0-9]{5}")
    ts = pd.to_datetime(df["InvoiceDate"])
    lines = pd.DataFrame({"sku": df["StockCode"], "region": df["Country"], "day": days_of(ts),
                          "q": q, "amount": q * price, "orig": q * price})[valid]
    return lines, None, None


def lines_marketplace(folder):
    orders = pd.read_csv(f"{folder}/orders.csv", dtype=str, keep_default_na=False)
    network = pd.read_csv(f"{folder}/network.csv", dtype=str, keep_default_na=False)
    network = network.drop_duplicates("dc_id", keep="first")  # DATA.md 7: the later duplicate is rejected
    dc_region = dict(zip(network["dc_id"].astype(np.int64), network["region_id"].astype(np.int64)))
    q = pd.to_numeric(orders["quantity"])
    final = pd.to_numeric(orders["final_unit_price"])
    original = pd.to_numeric(orders["original_unit_price"])
    valid = (q > 0) & (final > 0)
    ts = pd.to_datetime(orders["order_time"], format="%Y-%m-%d %H:%M:%S")
    region = orders["dc_ori"].astype(np.int64).map(dc_region)
    lines = pd.DataFrame({"order_id": orders["order_id"].astype(np.int64), "sku": orders["sku_id"].astype(np.int64),
                          "region": region, "day": days_of(ts), "order_ts": (ts - EPOCH).dt.total_seconds(),
                          "q": q, "amount": q * final, "orig": q * original})[valid]
    inv = None
    try:
        inv = pd.read_csv(f"{folder}/inventory.csv", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        pass
    if inv is not None:
        inv = pd.DataFrame({"sku": inv["sku_id"].astype(np.int64),
                            "region": inv["dc_id"].astype(np.int64).map(dc_region),
                            "day": days_of(pd.to_datetime(inv["date"], format="%Y-%m-%d")),
                            "flag": inv["available_flag"].astype(np.int64)})
        inv = inv[inv["region"].notna() & (inv["flag"] == 1)].copy()
        inv["region"] = inv["region"].astype(np.int64)
        inv = inv.groupby(["sku", "region", "day"]).size().rename("dcs").reset_index()
    try:
        dl = pd.read_csv(f"{folder}/delivery.csv", dtype=str, keep_default_na=False)
        dl = dl[dl["arr_time"] != ""].drop_duplicates("order_id", keep="first")  # first row with an arr_time
        arr = pd.to_datetime(dl["arr_time"], format="%Y-%m-%d %H:%M:%S")
        arr_of = dict(zip(dl["order_id"].astype(np.int64), (arr - EPOCH).dt.total_seconds()))
        lines["arr_ts"] = lines["order_id"].map(arr_of)
    except FileNotFoundError:
        lines["arr_ts"] = np.nan
        arr_of = None
    ndc = network.groupby(network["region_id"].astype(np.int64)).size().to_dict()
    return lines, inv, (ndc, arr_of is not None)


def demand(lines, inv, extra):
    """The demand table as a DataFrame sorted by (sku, region, date)."""
    first, last = int(lines["day"].min()), int(lines["day"].max())  # range of the valid lines
    lines = lines[lines["region"].notna()].copy()  # dc_ori not in network.csv: left out
    if lines["region"].dtype.kind == "f":
        lines["region"] = lines["region"].astype(np.int64)
    R = last - first + 1
    daily = lines.groupby(["sku", "region", "day"], sort=False).agg(units=("q", "sum"), amt=("amount", "sum"),
                                                                    orig=("orig", "sum")).reset_index()
    keys = daily[["sku", "region"]]
    if inv is not None:
        inv = inv[(inv["day"] >= first) & (inv["day"] <= last)]
        keys = pd.concat([keys, inv[["sku", "region"]]])
    series = keys.drop_duplicates().sort_values(["sku", "region"]).reset_index(drop=True)
    S = len(series)
    sid = pd.Series(np.arange(S), index=pd.MultiIndex.from_frame(series))

    def cell(df):
        return sid.loc[pd.MultiIndex.from_frame(df[["sku", "region"]])].to_numpy(), (df["day"] - first).to_numpy()

    units = np.zeros((S, R))
    amt = np.zeros((S, R))
    orig = np.zeros((S, R))
    s, d = cell(daily)
    units[s, d] = daily["units"].to_numpy()
    amt[s, d] = daily["amt"].to_numpy()
    orig[s, d] = daily["orig"].to_numpy()
    sale = units > 0
    # prices: that day's quantity-weighted values, carried forward from the last sale day
    with np.errstate(divide="ignore", invalid="ignore"):
        price = pd.DataFrame(np.where(sale, amt / units, np.nan)).ffill(axis=1).to_numpy()
        disc_today = np.where(sale & (orig > 0), 1.0 - amt / orig, np.nan)
    # a sale day with an undefined rate (no original amount) is carried forward as undefined: mark, fill, unmark
    marked = np.where(sale, np.where(np.isnan(disc_today), -1e300, disc_today), np.nan)
    disc = pd.DataFrame(marked).ffill(axis=1).to_numpy()
    disc[disc == -1e300] = np.nan

    lags = {}
    for k in (1, 7, 14, 28):
        a = np.full((S, R), np.nan)
        a[:, k:] = units[:, :-k]
        lags[k] = a
    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(units, axis=1)], axis=1)
    rolls = {}
    for k in (7, 28):
        a = np.full((S, R), np.nan)
        a[:, k:] = (cs[:, k:R] - cs[:, 0:R - k]) / k
        rolls[k] = a

    availability = np.full((S, R), np.nan)
    lead = np.full((S, R), np.nan)
    if inv is not None:
        ndc, has_delivery = extra
        avail = np.zeros((S, R))
        s, d = cell(inv)
        avail[s, d] = inv["dcs"].to_numpy()
        regions = series["region"].map(ndc).to_numpy(dtype=float)
        availability = avail / regions[:, None]
        exists = (avail > 0) | sale
    else:
        first_sale = np.where(sale.any(axis=1), sale.argmax(axis=1), R)
        exists = np.arange(R)[None, :] >= first_sale[:, None]
    if extra is not None and extra[1]:
        dl = lines[lines["arr_ts"].notna()]
        s, od = cell(dl)
        secs = (dl["arr_ts"] - dl["order_ts"]).to_numpy()
        arr_day = np.floor(dl["arr_ts"].to_numpy() / 86400) - first
        tot = np.zeros((S, R))
        cnt = np.zeros((S, R))
        for k in range(1, 29):  # the dates a line counts for: order date + 1 .. + 28, arrived before
            t = od + k
            ok = (t < R) & (t > arr_day)
            np.add.at(tot, (s[ok], t[ok]), secs[ok])
            np.add.at(cnt, (s[ok], t[ok]), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lead = np.where(cnt > 0, tot / cnt / 3600.0, np.nan)

    dates = pd.to_datetime(np.arange(first, last + 1), unit="D")
    cal = {"dow": dates.dayofweek.to_numpy(), "dom": dates.day.to_numpy(), "month": dates.month.to_numpy(),
           "week": dates.isocalendar().week.to_numpy().astype(np.int64)}
    si, di = np.nonzero(exists)
    out = pd.DataFrame({"sku_id": series["sku"].to_numpy()[si], "region_id": series["region"].to_numpy()[si],
                        "date": di + first, "units": units[si, di]})
    cols = {"avg_price": price, "avg_discount_rate": disc, "availability": availability, "lead_time_hours": lead,
            "lag_1": lags[1], "lag_7": lags[7], "lag_14": lags[14], "lag_28": lags[28],
            "roll_mean_7": rolls[7], "roll_mean_28": rolls[28]}
    for name in FEATURES:
        out[name] = cal[name][di] if name in cal else cols[name][si, di]
    return out


def read_strings(f, path):
    """A string list as segcast's h5_write_strings stores it (byte blob + end offsets)."""
    if path not in f:
        return None
    blob = bytes(f[path + "/bytes"][:]) if f[path + "/bytes"].shape[0] else b""
    ends = f[path + "/ends"][:]
    out, start = [], 0
    for e in ends:
        out.append(blob[start:e].decode("utf-8"))
        start = e
    return out


def segcast_table(out_dir, layout):
    import h5py
    with h5py.File(f"{out_dir}/results.h5", "r") as f:
        g = f["forecast/demand"]
        df = pd.DataFrame({c: g[c][:] for c in ["sku_id", "region_id", "date", "units"] + FEATURES})
    if layout == "online-retail":
        with h5py.File(f"{out_dir}/store.h5", "r") as f:
            skus, regions = read_strings(f, "dict/sku"), read_strings(f, "dict/region")
        df["sku_id"] = [skus[i] for i in df["sku_id"]]
        df["region_id"] = [regions[i] for i in df["region_id"]]
    return df.sort_values(["sku_id", "region_id", "date"]).reset_index(drop=True)


def compare(ref, got):
    ok = True

    def bad(msg):
        nonlocal ok
        ok = False
        print("BAD", msg)

    if len(ref) != len(got):
        bad(f"rows: segcast {len(got)}, reference {len(ref)}")
        keys = ["sku_id", "region_id", "date"]
        m = ref[keys].merge(got[keys], how="outer", indicator=True)
        print(m[m["_merge"] != "both"].head(20).to_string())
        return False
    for c in ["sku_id", "region_id", "date"]:
        diff = ref[c].to_numpy() != got[c].to_numpy()
        if diff.any():
            bad(f"{c} differs in {diff.sum()} rows, first at row {np.argmax(diff)}")
    if not ok:
        return False
    worst = {}
    for c in ["units"] + FEATURES:
        a, b = got[c].to_numpy(dtype=float), ref[c].to_numpy(dtype=float)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if (nan_a != nan_b).any():
            i = int(np.argmax(nan_a != nan_b))
            bad(f"{c}: empty in one table only in {(nan_a != nan_b).sum()} rows, e.g. {ref.iloc[i][['sku_id', 'region_id', 'date']].tolist()} segcast {a[i]} reference {b[i]}")
            continue
        both = ~nan_a
        err = np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(b[both]))
        worst[c] = float(err.max()) if err.size else 0.0
        if worst[c] > 1e-9:
            i = np.flatnonzero(both)[int(np.argmax(err))]
            bad(f"{c}: relative difference {worst[c]:.3g} at {ref.iloc[i][['sku_id', 'region_id', 'date']].tolist()} segcast {a[i]} reference {b[i]}")
    print(f"rows {len(ref)}; largest relative difference per column: " +
          ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    return ok


def main():
    args = sys.argv[1:]
    timing = args[0] == "--time"
    if timing:
        args = args[1:]
    layout, src = args[0], args[1]
    if layout == "online-retail":
        lines, inv, extra = lines_online_retail(src)
    else:
        lines, inv, extra = lines_marketplace(src)
    t = time.perf_counter()
    ref = demand(lines, inv, extra)
    sec = time.perf_counter() - t
    if timing:
        print(f"pandas demand table: {len(ref)} rows in {sec:.3f} s")
        return
    got = segcast_table(args[2], layout)
    if layout == "online-retail":
        ref = ref.sort_values(["sku_id", "region_id", "date"]).reset_index(drop=True)
    ok = compare(ref, got)
    print("demand table equals the pandas reference" if ok else "demand table DIFFERS from the pandas reference")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
