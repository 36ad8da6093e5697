#!/usr/bin/python3
"""An independent marketplace generator for benchmarks (issue 15).

Written from DATA.md 1a and 7 alone, sharing nothing with `segcast generate`,
so that the ingest is measured and tested on files that look like a real
export rather than like the project's own generator's:

  users.csv      ids rising with the sign-up date but with random gaps (not
                 1..N), 8-10 digits; age / gender / city_level sometimes empty;
  orders.csv     in order time across all users (an order-system export):
                 order ids rising with time, with gaps; 1-6 lines an order;
                 about 2 % return lines (negative quantity), a few zero-price
                 lines, and 0.3 % of the orders from user ids absent from
                 users.csv (deleted accounts, ids of the same sequence);
  clicks.csv     in time order across all users; platform text, about 1 % of
                 it quoted with a comma inside (`"android, tablet"`);
  delivery.csv   in ship-time order (a carrier's export, not order-id order);
                 about 2 % of orders never arrive (empty arr_time), 1 %
                 have a first row without an arrival and a later one with,
                 0.5 % a second row with a later arrival (redelivered);
  inventory.csv  a daily snapshot, date then DC then sku, of the skus each DC
                 stocks (not every DC stocks every sku);
  network.csv    DC ids in the hundreds, a region each;
  skus.csv       the catalog, categories with quoted commas (`"home, garden"`).

Everything is deterministic in --seed. Rows are formatted column by column
with numpy into byte matrices (a field right-aligned, padded with NUL bytes
that are dropped when the rows are written), so 1M users take about a minute.

The generator writes, beside the CSV files, `gen_independent.json`: for each
file its data rows and physical lines, and the sales figures DATA.md 2 defines
(valid lines, return lines, revenue = sum of quantity x final price over the
valid lines, in cents), so a test can check an ingest's accounting against
what was written (tests/e2e/test_ingest_foreign.sh).

With --damage the files also hold what a test must account for: 0.1 % of
the order lines carry an impossible date (`2023-02-30`, rejected, one line
each), 0.5 % of the clicks a platform with a quoted newline (one row over two
lines: a continuation line), and delivery.csv a blank line every 5,000 rows;
the manifest then gives each file's rejected, blank and continuation lines
too, and the sales figures leave the rejected lines out.

Usage: gen_independent.py --out DIR [--users N] [--seed S] [--skus K] [--days D] [--crlf] [--damage]
"""
import argparse
import json
import os

import numpy as np

DAY0 = np.datetime64("2023-01-01")
NDAYS = 365  # --days
CHUNK = 1 << 20  # rows formatted at a time


# ---- formatting: each field an (n, width) uint8 matrix, 0 = no byte ----
def digits(v, width):
    """Non-negative ints right-aligned in `width` bytes, no leading zeros."""
    v = np.asarray(v, dtype=np.int64)
    out = np.zeros((len(v), width), dtype=np.uint8)
    x = v.copy()
    for k in range(width - 1, -1, -1):
        d = (x % 10).astype(np.uint8)
        keep = (x > 0) | (k == width - 1)
        out[:, k] = np.where(keep, d + 48, 0)
        x //= 10
    return out


def fixed(v, width):
    """Non-negative ints in exactly `width` digits (leading zeros kept)."""
    v = np.asarray(v, dtype=np.int64)
    out = np.empty((len(v), width), dtype=np.uint8)
    x = v.copy()
    for k in range(width - 1, -1, -1):
        out[:, k] = (x % 10).astype(np.uint8) + 48
        x //= 10
    return out


def signed(v, width):
    v = np.asarray(v, dtype=np.int64)
    mag = digits(np.abs(v), width)
    sign = np.where(v < 0, 45, 0).astype(np.uint8)[:, None]
    return np.hstack([sign, mag])


def cents(v, width=6):
    """A price in cents as `units.cc`."""
    v = np.asarray(v, dtype=np.int64)
    return np.hstack([digits(v // 100, width), np.full((len(v), 1), 46, np.uint8), fixed(v % 100, 2)])


def lit(text, n):
    b = np.frombuffer(text.encode(), dtype=np.uint8)
    return np.tile(b, (n, 1))


def vocab(words, idx):
    """Strings by index; an empty word is an empty field."""
    w = max(1, max(len(s) for s in words))
    table = np.zeros((len(words), w), dtype=np.uint8)
    for i, s in enumerate(words):
        b = s.encode()
        table[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return table[np.asarray(idx)]


def blank(mat, empty):
    """Makes the fields of the rows in `empty` empty."""
    mat = mat.copy()
    mat[np.asarray(empty)] = 0
    return mat


def date_of(day):
    d = DAY0 + np.asarray(day, dtype=np.int64).astype("timedelta64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    n = len(y)
    dash = np.full((n, 1), 45, np.uint8)
    return np.hstack([fixed(y, 4), dash, fixed(m, 2), dash, fixed(dd, 2)])


def stamp(sec):
    """Seconds since 2023-01-01 00:00:00 as `YYYY-MM-DD HH:MM:SS`."""
    sec = np.asarray(sec, dtype=np.int64)
    t = sec % 86400
    n = len(sec)
    colon = np.full((n, 1), 58, np.uint8)
    return np.hstack([date_of(sec // 86400), np.full((n, 1), 32, np.uint8), fixed(t // 3600, 2), colon,
                      fixed(t // 60 % 60, 2), colon, fixed(t % 60, 2)])


class Writer:
    """A CSV file written from field matrices, counting its rows."""

    def __init__(self, path, header, crlf):
        self.f = open(path, "wb")
        self.end = b"\r\n" if crlf else b"\n"
        self.rows = self.blank = self.cont = self.rejected = 0
        self.f.write(header.encode() + self.end)

    def rows_of(self, fields):
        n = fields[0].shape[0]
        parts = []
        for i, m in enumerate(fields):
            if i:
                parts.append(np.full((n, 1), 44, np.uint8))
            parts.append(m)
        parts.append(np.tile(np.frombuffer(self.end, np.uint8), (n, 1)))
        mat = np.hstack(parts).ravel()
        self.f.write(mat[mat != 0].tobytes())
        self.rows += n

    def blank_line(self):
        self.f.write(self.end)
        self.blank += 1

    def close(self):
        self.f.close()
        return {"rows": self.rows, "lines": self.rows + 1 + self.blank + self.cont, "rejected": self.rejected,
                "blank": self.blank, "continuation_lines": self.cont}


def chunks(n, size=CHUNK):
    for a in range(0, n, size):
        yield a, min(n, a + size)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--crlf", action="store_true", help="CRLF line ends (Python csv's default)")
    ap.add_argument("--skus", type=int, default=0, help="products (default: users / 200, 40 to 1,200)")
    ap.add_argument("--days", type=int, default=365, help="days of data from 2023-01-01")
    ap.add_argument("--damage", action="store_true", help="bad dates, quoted newlines and blank lines (tests)")
    a = ap.parse_args()
    global NDAYS
    NDAYS = a.days
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    P = lambda name: os.path.join(a.out, name)  # noqa: E731
    manifest = {"generator": "bench/gen_independent.py", "users": a.users, "seed": a.seed, "files": {}}

    # ---- network: 30 DCs in 9 regions, ids in the hundreds
    n_dc = 30
    dc_ids = np.sort(rng.choice(np.arange(100, 1000), n_dc, replace=False))
    dc_region = rng.integers(1, 10, n_dc)
    dc_region[:9] = np.arange(1, 10)  # every region has a DC
    w = Writer(P("network.csv"), "dc_id,region_id", a.crlf)
    w.rows_of([digits(dc_ids, 3), digits(dc_region, 2)])
    manifest["files"]["network.csv"] = w.close()

    # ---- skus: 1,200 products (fewer for small sets: 1 per 200 users, at
    # least 40, so a test's daily inventory stays small), ids with gaps
    n_sku = a.skus or int(np.clip(a.users // 200, 40, 1200))
    sku_ids = np.sort(rng.choice(np.arange(10000, 400000), n_sku, replace=False))
    cats = ["electronics", "books", "\"home, garden\"", "toys", "apparel", "grocery", "beauty",
            "\"sports, outdoor\"", "pets", "office"]
    w = Writer(P("skus.csv"), "sku_id,category,brand_id", a.crlf)
    w.rows_of([digits(sku_ids, 6), vocab(cats, rng.integers(0, len(cats), n_sku)),
               digits(rng.integers(1, 500, n_sku), 3)])
    manifest["files"]["skus.csv"] = w.close()
    sku_pop = 1.0 / np.arange(1, n_sku + 1) ** 0.8  # Zipf-like popularity
    sku_pop = rng.permutation(sku_pop / sku_pop.sum())
    sku_price = np.round(np.exp(rng.normal(3.0, 0.9, n_sku)) * 100).astype(np.int64) + 99  # cents

    # ---- users: ids rising with sign-up, random gaps
    nu = a.users
    gaps = rng.integers(2, 60, nu)  # id - 1 is never a user: see deleted accounts below
    user_ids = 10_000_000 + np.cumsum(gaps)
    created = np.sort(rng.integers(-8 * 365, NDAYS, nu))  # days from 2023-01-01
    w = Writer(P("users.csv"), "user_id,created_at,age,gender,city_level", a.crlf)
    for s, e in chunks(nu):
        n = e - s
        age = rng.integers(16, 81, n)
        gender = rng.choice(4, n, p=[0.47, 0.47, 0.03, 0.03])  # M F U empty
        city = rng.integers(1, 6, n)
        w.rows_of([digits(user_ids[s:e], 9), date_of(created[s:e]),
                   blank(digits(age, 3), rng.random(n) < 0.04), vocab(["M", "F", "U", ""], gender),
                   blank(digits(city, 1), rng.random(n) < 0.05)])
    manifest["files"]["users.csv"] = w.close()

    # ---- orders: per user a count of orders, each at a random time after
    # sign-up; then every order of everyone in time order
    home = rng.integers(0, n_dc, nu)  # the DC that usually ships a user's orders
    per_user = rng.geometric(0.21, nu) - 1  # mean about 3.8 orders
    o_user = np.repeat(np.arange(nu), per_user)
    start = np.maximum(created[o_user], 0)
    o_day = start + (rng.random(len(o_user)) * (NDAYS - start)).astype(np.int64)
    o_sec = o_day * 86400 + rng.integers(0, 86400, len(o_user))
    order = np.argsort(o_sec, kind="stable")
    o_user, o_sec = o_user[order], o_sec[order]
    n_ord = len(o_user)
    order_ids = 500_000_000 + np.cumsum(rng.integers(1, 4, n_ord))
    o_uid = user_ids[o_user]
    gone = rng.random(n_ord) < 0.003  # a deleted account, from the same id sequence: not in users.csv
    o_uid = np.where(gone, o_uid - 1, o_uid)
    o_dc = np.where(rng.random(n_ord) < 0.85, home[o_user], rng.integers(0, n_dc, n_ord))
    n_lines = np.minimum(rng.geometric(0.48, n_ord), 6)  # about 2.1 lines
    li_ord = np.repeat(np.arange(n_ord), n_lines)
    nl = len(li_ord)
    li_sku = rng.choice(n_sku, nl, p=sku_pop)
    qty = np.minimum(rng.geometric(0.6, nl), 9)
    qty = np.where(rng.random(nl) < 0.02, -qty, qty)  # returns
    orig = sku_price[li_sku]
    disc = np.where(rng.random(nl) < 0.3, rng.integers(5, 40, nl), 0)
    final = orig * (100 - disc) // 100
    final = np.where(rng.random(nl) < 0.001, 0, final)  # a free line: loaded, not a sale
    bad = (rng.random(nl) < 0.001) if a.damage else np.zeros(nl, bool)  # order_time 2023-02-30
    valid = (qty > 0) & (final > 0) & ~bad
    manifest["sales"] = {"lines": int(nl - bad.sum()), "valid_lines": int(valid.sum()),
                         "return_lines": int(((qty < 0) & ~bad).sum()),
                         "revenue_cents": int((qty * final)[valid].sum())}
    w = Writer(P("orders.csv"),
               "order_id,user_id,sku_id,order_time,quantity,original_unit_price,final_unit_price,dc_ori", a.crlf)
    for s, e in chunks(nl):
        k = li_ord[s:e]
        when = stamp(o_sec[k])
        when[bad[s:e], :10] = np.frombuffer(b"2023-02-30", np.uint8)
        w.rejected += int(bad[s:e].sum())
        w.rows_of([digits(order_ids[k], 10), digits(o_uid[k], 10), digits(sku_ids[li_sku[s:e]], 6),
                   when, signed(qty[s:e], 1), cents(orig[s:e]), cents(final[s:e]),
                   digits(dc_ids[o_dc[k]], 3)])
    manifest["files"]["orders.csv"] = w.close()
    manifest["files"]["orders.csv"]["rejected_lines"] = (np.flatnonzero(bad) + 2).tolist()

    # ---- delivery: most orders once, some never arriving, some twice (a
    # failed attempt without an arrival, then the delivery); by ship time
    ship = o_sec + rng.integers(1800, 2 * 86400, n_ord)
    arr = ship + rng.integers(6 * 3600, 6 * 86400, n_ord)
    lost = rng.random(n_ord) < 0.02
    twice = ~lost & (rng.random(n_ord) < 0.01)
    again = ~lost & ~twice & (rng.random(n_ord) < 0.005)  # redelivered: the first arrival counts
    d_ord = np.concatenate([np.arange(n_ord), np.flatnonzero(twice), np.flatnonzero(again)])
    d_ship = np.concatenate([ship, ship[twice] + 86400, ship[again] + 3 * 86400])
    d_arr = np.concatenate([np.where(lost | twice, -1, arr), arr[twice] + 86400, arr[again] + 3 * 86400])
    by = np.argsort(d_ship, kind="stable")
    d_ord, d_ship, d_arr = d_ord[by], d_ship[by], d_arr[by]
    w = Writer(P("delivery.csv"), "order_id,ship_time,arr_time", a.crlf)
    for s, e in chunks(len(d_ord), 5000 if a.damage else CHUNK):
        w.rows_of([digits(order_ids[d_ord[s:e]], 10), stamp(d_ship[s:e]),
                   blank(stamp(np.maximum(d_arr[s:e], 0)), d_arr[s:e] < 0)])
        if a.damage:
            w.blank_line()
    manifest["files"]["delivery.csv"] = w.close()

    # ---- clicks: per user, at random times after sign-up, all in time order
    per_user = rng.poisson(6.0 * rng.gamma(1.0, 1.0, nu))
    c_user = np.repeat(np.arange(nu), per_user)
    start = np.maximum(created[c_user], 0)
    c_sec = (start + rng.random(len(c_user)) * (NDAYS - start)).astype(np.int64) * 86400 + rng.integers(
        0, 86400, len(c_user))
    by = np.argsort(c_sec, kind="stable")
    c_user, c_sec = c_user[by], c_sec[by]
    nc = len(c_user)
    plat = ["app", "web", "mini", "ios", "\"android, tablet\"", "", "\"tv\nbox\""]
    p_plat = [0.5, 0.3, 0.1, 0.07, 0.01, 0.02, 0.0]
    if a.damage:
        p_plat[0], p_plat[6] = 0.495, 0.005  # a quoted newline: one row, two lines
    w = Writer(P("clicks.csv"), "user_id,sku_id,ts,platform", a.crlf)
    for s, e in chunks(nc):
        n = e - s
        pl = rng.choice(len(plat), n, p=p_plat)
        w.cont += int((pl == 6).sum())
        w.rows_of([digits(user_ids[c_user[s:e]], 9), digits(sku_ids[rng.choice(n_sku, n, p=sku_pop)], 6),
                   stamp(c_sec[s:e]), vocab(plat, pl)])
    manifest["files"]["clicks.csv"] = w.close()

    # ---- inventory: each DC stocks about 70 % of the skus; a row a day for each
    stocked = rng.random((n_dc, n_sku)) < 0.7
    dc_k, sku_k = np.nonzero(stocked)  # DC-major, sku rising
    per_day = len(dc_k)
    w = Writer(P("inventory.csv"), "date,dc_id,sku_id,available_flag", a.crlf)
    dc_txt, sku_txt = digits(dc_ids[dc_k], 3), digits(sku_ids[sku_k], 6)
    for day in range(NDAYS):
        flag = (rng.random(per_day) < 0.93).astype(np.int64)
        w.rows_of([np.tile(date_of([day]), (per_day, 1)), dc_txt, sku_txt, digits(flag, 1)])
    manifest["files"]["inventory.csv"] = w.close()

    with open(P("gen_independent.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
