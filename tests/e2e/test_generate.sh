#!/usr/bin/env bash
# segcast generate, end to end (issue 2 item 5). One mode per CTest test:
#
#   ranks   20,000 users at 1 rank, at 4 ranks and at 1 rank with 2 OpenMP
#           threads: the md5 of every one of the seven files is identical;
#           another seed gives other orders; generating again into the same
#           folder replaces the files (no stale bytes, no temporaries left).
#   shape   a 20,000-user set checked by an independent pandas computation
#           (/usr/bin/python3): DATA.md 1a headers and formats, valid
#           timestamps and dates, unique ids, every dc_ori in network.csv,
#           one-time buyers 40-60 %, returns, missing optional values, a
#           weekday effect, a yearly season, heavy-tailed spend, churn,
#           promotions that lift units, stock-outs without sales at the DC,
#           clicks before purchases, delivery delays and lost parcels.
#   errors  bad options: exit status 2, one line naming the problem, and no
#           files written.
set -euo pipefail
BIN=${SEGCAST_BIN:?set by CTest}
MPIRUN=${SEGCAST_MPIRUN:-mpirun --oversubscribe}
PY=/usr/bin/python3
mode=${1:?usage: test_generate.sh ranks|shape|errors}
work=$(mktemp -d /tmp/segcast-gen.XXXXXX)
trap 'rm -rf "$work"' EXIT
USERS=20000
FILES="users.csv orders.csv clicks.csv delivery.csv inventory.csv network.csv skus.csv truth.csv"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

sums() { (cd "$1" && md5sum $FILES); }

case "$mode" in
ranks)
  OMP_NUM_THREADS=1 timeout 120 "$BIN" generate --layout marketplace --out "$work/r1" --users $USERS --seed 7 >/dev/null
  OMP_NUM_THREADS=1 timeout 120 $MPIRUN -np 4 "$BIN" generate --layout marketplace --out "$work/r4" --users $USERS \
    --seed 7 >/dev/null
  OMP_NUM_THREADS=2 timeout 120 "$BIN" generate --layout marketplace --out "$work/t2" --users $USERS --seed 7 >/dev/null
  sums "$work/r1" >"$work/r1.md5"
  sums "$work/r4" >"$work/r4.md5"
  sums "$work/t2" >"$work/t2.md5"
  [ "$(wc -l <"$work/r1.md5")" = 8 ] || fail "expected 8 files, got: $(cat "$work/r1.md5")"
  diff "$work/r1.md5" "$work/r4.md5" || fail "files differ between 1 and 4 ranks"
  diff "$work/r1.md5" "$work/t2.md5" || fail "files differ between 1 and 2 threads"
  for f in $FILES; do [ -s "$work/r1/$f" ] || fail "$f is empty"; done
  # 3 ranks split 20,000 users and 365 days unevenly: still the same bytes
  OMP_NUM_THREADS=1 timeout 120 $MPIRUN -np 3 "$BIN" generate --out "$work/r3" --users $USERS --seed 7 >/dev/null
  sums "$work/r3" | diff "$work/r1.md5" - || fail "files differ between 1 and 3 ranks"
  # another seed: another data set of the same layout
  OMP_NUM_THREADS=1 timeout 120 "$BIN" generate --out "$work/s8" --users $USERS --seed 8 >/dev/null
  cmp -s "$work/r1/orders.csv" "$work/s8/orders.csv" && fail "seeds 7 and 8 gave the same orders.csv"
  cmp -s "$work/r1/network.csv" "$work/s8/network.csv" || fail "network.csv should not depend on the seed"
  # regenerate a smaller set over the larger one, at 2 ranks: files are replaced
  OMP_NUM_THREADS=1 timeout 120 $MPIRUN -np 2 "$BIN" generate --out "$work/r4" --users 500 --seed 7 >/dev/null
  OMP_NUM_THREADS=1 timeout 120 "$BIN" generate --out "$work/small" --users 500 --seed 7 >/dev/null
  sums "$work/small" | diff - <(sums "$work/r4") || fail "regenerating into a folder left other bytes"
  ls "$work/r4" | grep -q '\.tmp$' && fail "temporary files left: $(ls "$work/r4")"
  # users 1..N, each once, in order; the last user is there at every rank count
  [ "$(tail -n 1 "$work/r1/users.csv" | cut -d, -f1)" = $USERS ] || fail "users.csv does not end with user $USERS"
  echo "PASS generate ranks: $(head -c 300 "$work/r1.md5" | tr '\n' ' ')"
  ;;

shape)
  OMP_NUM_THREADS=2 timeout 120 "$BIN" generate --layout marketplace --out "$work/d" --users $USERS --seed 42 >/dev/null
  timeout 300 "$PY" - "$work/d" <<'EOF'
import re
import sys

import numpy as np
import pandas as pd

d = sys.argv[1]
bad = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)


heads = {
    "users": "user_id,created_at,age,gender,city_level",
    "orders": "order_id,user_id,sku_id,order_time,quantity,original_unit_price,final_unit_price,dc_ori",
    "clicks": "user_id,sku_id,ts,platform",
    "delivery": "order_id,ship_time,arr_time",
    "inventory": "date,dc_id,sku_id,available_flag",
    "network": "dc_id,region_id",
    "skus": "sku_id,category,brand_id",
    "truth": "user_id,kind,churn_date",
}
for name, head in heads.items():
    with open(f"{d}/{name}.csv", "rb") as f:
        first = f.readline().decode()
    check(first == head + "\n", f"{name}.csv header is '{head}'")

S = dict(dtype=str, keep_default_na=False)
users = pd.read_csv(f"{d}/users.csv", **S)
orders = pd.read_csv(f"{d}/orders.csv", **S)
clicks = pd.read_csv(f"{d}/clicks.csv", **S)
delivery = pd.read_csv(f"{d}/delivery.csv", **S)
inv = pd.read_csv(f"{d}/inventory.csv", **S)
net = pd.read_csv(f"{d}/network.csv", **S)
skus = pd.read_csv(f"{d}/skus.csv", **S)

# ---- formats (DATA.md 1a and 7) ----
TS = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
INT, POS, PRICE = r"-?\d+", r"[1-9]\d*", r"\d+\.\d{2}"


def full(col, pat, allow_empty=False):
    s = col[col != ""] if allow_empty else col
    return bool(s.str.fullmatch(pat).all())


def parse_ts(col):
    return pd.to_datetime(col, format="%Y-%m-%d %H:%M:%S", errors="raise")


check(full(users.user_id, POS) and users.user_id.is_unique, "user ids are unique positive integers")
check(list(users.user_id.astype(int)) == list(range(1, len(users) + 1)), "users are 1..N")
created = pd.to_datetime(users.created_at[users.created_at != ""], format="%Y-%m-%d", errors="raise")
check(created.min() >= pd.Timestamp("2016-01-01") and created.max() <= pd.Timestamp("2023-12-31"),
      "created_at are real dates in 2016..2023")
age = users.age[users.age != ""].astype(int)
check(full(users.age, r"\d+", True) and age.between(0, 120).all(), "age 0..120 or empty")
check(users.gender.isin(["M", "F", "U", ""]).all(), "gender M/F/U or empty")
check(users.city_level.isin(["1", "2", "3", "4", "5", ""]).all(), "city_level 1..5 or empty")
for col in ["created_at", "age", "gender", "city_level"]:
    share = (users[col] == "").mean()
    check(0 < share < 0.1, f"a few users lack {col} ({share:.3f})")

check(full(orders.order_id, POS) and full(orders.user_id, POS) and full(orders.sku_id, POS), "order, user, sku ids")
check(full(orders.order_time, TS), "order_time is YYYY-MM-DD HH:MM:SS")
ot = parse_ts(orders.order_time)
check(ot.min() >= pd.Timestamp("2023-01-01") and ot.max() < pd.Timestamp("2024-01-01"),
      f"orders within 2023 ({ot.min()} .. {ot.max()})")
check(ot.dt.normalize().min() == pd.Timestamp("2023-01-01") and ot.dt.normalize().max() == pd.Timestamp("2023-12-31"),
      "the orders span the whole year 2023 (test window = last 28 days)")
check(full(orders.quantity, INT) and (orders.quantity.astype(int) != 0).all(), "quantity a non-zero integer")
check(full(orders.original_unit_price, PRICE) and full(orders.final_unit_price, PRICE), "prices with 2 decimals")
q = orders.quantity.astype(int)
orig = orders.original_unit_price.astype(float)
fin = orders.final_unit_price.astype(float)
check((fin > 0).all() and (fin <= orig).all(), "0 < final <= original")
disc = 1 - fin / orig
check(0.03 < (disc > 0.001).mean() < 0.5, f"some lines discounted ({(disc > 0.001).mean():.3f})")
check(orders.user_id.isin(users.user_id).all(), "every order's user is in users.csv")
check(orders.dc_ori.isin(net.dc_id).all(), "every dc_ori is in network.csv")
check(net.dc_id.is_unique and len(net) == 24 and net.region_id.astype(int).between(1, 12).all()
      and net.region_id.nunique() == 12, "network: 24 unique DCs in regions 1..12")
check(skus.sku_id.is_unique and orders.sku_id.isin(skus.sku_id).all(), "every sku is in skus.csv")
check(((skus.category == "") | skus.category.str.fullmatch(r"[a-z]+")).all() and
      full(skus.brand_id, POS, True), "skus: category text, brand_id integer (or empty)")

check(full(clicks.ts, TS), "clicks ts format")
ct = parse_ts(clicks.ts)
check(ct.min() >= pd.Timestamp("2023-01-01") and ct.max() < pd.Timestamp("2024-01-01"), "clicks within 2023")
check(clicks.platform.isin(["app", "web", "mini", ""]).all() and (clicks.platform == "").any(),
      "platform app/web/mini, sometimes empty")
check(clicks.user_id.isin(users.user_id).all() and clicks.sku_id.isin(skus.sku_id).all(), "clicks' users and skus exist")

check(full(delivery.ship_time, TS, True) and full(delivery.arr_time, TS, True), "delivery timestamps")
check(delivery.order_id.is_unique and set(delivery.order_id) == set(orders.order_id[q > 0]),
      "one delivery row per order")
check(full(inv.date, r"\d{4}-\d{2}-\d{2}", False) and inv.available_flag.isin(["0", "1"]).all(), "inventory formats")
inv_dates = pd.to_datetime(inv.date, format="%Y-%m-%d", errors="raise")
n_sku = len(skus)
check(len(inv) == 365 * 24 * n_sku and not inv.duplicated(["date", "dc_id", "sku_id"]).any(),
      "inventory: one row per (day, DC, sku)")

# ---- shape ----
valid = orders[(q > 0)].copy()
valid["q"] = q[q > 0]
valid["rev"] = valid.q * fin[q > 0]
valid["t"] = ot[q > 0]
per_user = valid.groupby("user_id").agg(orders=("order_id", "nunique"), rev=("rev", "sum"), last=("t", "max"))
one_time = (per_user.orders == 1).mean()
check(0.40 <= one_time <= 0.60, f"one-time buyers {one_time:.3f} of customers")
lines_per_user = len(orders) / len(users)
check(5 <= lines_per_user <= 11, f"about 8 order lines per user ({lines_per_user:.2f})")
ret = (q < 0).mean()
check(0.005 < ret < 0.1, f"return lines {ret:.4f}")
# a return follows a purchase of the same sku in the same order, and returns no more
buys = valid.groupby(["order_id", "sku_id"]).q.sum()
rets = orders[q < 0].assign(q=-q[q < 0]).groupby(["order_id", "sku_id"]).q.sum()
check(rets.index.isin(buys.index).all() and (rets <= buys.reindex(rets.index)).all(),
      "returns refer to a bought sku of the same order")
rev = per_user.rev.sort_values(ascending=False)
top = rev.iloc[: len(rev) // 10].sum() / rev.sum()
check(top > 0.35, f"top 10 % of customers bring {top:.2f} of revenue (heavy tail)")
repeat = per_user[per_user.orders >= 3]
gone = (repeat["last"] < pd.Timestamp("2023-10-01")).mean()
check(gone > 0.15, f"{gone:.2f} of customers with 3+ orders stopped buying before October (churn)")

# truth.csv: every user once; buyers' kinds agree with their orders, and
# nobody orders on or after their churn date (an order's day is its
# order_time's date)
truth = pd.read_csv(f"{d}/truth.csv", **S)
check(list(truth.user_id.astype(int)) == list(range(1, len(users) + 1)), "truth.csv: users 1..N")
check(truth.kind.isin(["none", "one_time", "repeat"]).all(), "truth.csv kinds none / one_time / repeat")
norders = orders.groupby("user_id").order_id.nunique()
tk = truth.set_index("user_id")
buyers = tk.index[tk.kind != "none"]
check(set(norders.index) == set(buyers), "the users with orders are the buyers of truth.csv")
check((norders.reindex(tk.index[tk.kind == "one_time"]) == 1).all(), "one-time buyers have one order")
check((norders.reindex(tk.index[tk.kind == "repeat"]) >= 2).all(), "repeat buyers have two orders or more")
last_buy = valid.groupby("user_id").t.max().dt.normalize()
cd = pd.to_datetime(tk.churn_date[tk.churn_date != ""], format="%Y-%m-%d")
check((last_buy.reindex(cd.index) < cd).all(), "no sale on or after a user's churn date")
share = (tk.loc[tk.kind == "repeat", "churn_date"] != "").mean()
check(0.3 < share < 0.9, f"{share:.2f} of repeat buyers churn before the end of the data")

units_day = valid.groupby(valid.t.dt.normalize()).q.sum()
dow = units_day.groupby(units_day.index.dayofweek).mean()
check(dow.max() / dow.min() > 1.1, f"weekday effect: weekday means {dow.round(0).tolist()}")
month = units_day.groupby(units_day.index.month).mean()
check(month.max() / month.min() > 1.15, f"yearly season: monthly means {month.round(0).tolist()}")

# promotions: discounted days of a (sku, region) sell more than its other days
region = dict(zip(net.dc_id, net.region_id))
valid["region"] = valid.dc_ori.map(region)
valid["day"] = valid.t.dt.normalize()
valid["disc"] = disc[q > 0]
daily = valid.groupby(["sku_id", "region", "day"]).agg(units=("q", "sum"), disc=("disc", "max"))
daily["promo"] = daily.disc >= 0.09  # coupons give at most ~5 %; promotions 10 % and more
busy = daily.groupby(level=[0, 1]).filter(lambda g: len(g) >= 250 and g.promo.sum() >= 5)
ratios = busy.groupby(level=[0, 1]).apply(lambda g: g.units[g.promo].mean() / g.units[~g.promo].mean())
check(len(ratios) >= 5 and ratios.median() > 1.3,
      f"promotions lift units: median ratio {ratios.median():.2f} over {len(ratios)} busy series")
lift_by_depth = busy.assign(deep=busy.disc >= 0.25).groupby("deep").units.mean()
check(lift_by_depth.get(True, 0) > lift_by_depth.get(False, 0), "deeper discounts sell more units")

# stock-outs: a DC with available_flag 0 sells nothing of that sku that day
invd = inv.assign(day=inv_dates)
cell = valid.groupby(["day", "dc_ori", "sku_id"]).q.sum().rename("units").reset_index()
m = invd.merge(cell, left_on=["day", "dc_id", "sku_id"], right_on=["day", "dc_ori", "sku_id"], how="left")
m["units"] = m.units.fillna(0)
out_share = (m.available_flag == "0").mean()
check(0.01 < out_share < 0.1, f"stock-outs on {out_share:.3f} of (day, DC, sku)")
u0, u1 = m.units[m.available_flag == "0"].mean(), m.units[m.available_flag == "1"].mean()
check(u0 < 0.2 * u1, f"units per (day, DC, sku): {u0:.4f} when out of stock vs {u1:.4f} in stock")

# clicks precede purchases: many lines have a click on the same sku by the user before the order
cl = clicks.assign(ct=ct)[["user_id", "sku_id", "ct"]]
first_click = cl.groupby(["user_id", "sku_id"]).ct.min()
fc = pd.Series(first_click.reindex(pd.MultiIndex.from_frame(valid[["user_id", "sku_id"]])).to_numpy(),
               index=valid.index)
before = (fc < valid.t).mean()
check(before > 0.2, f"{before:.2f} of lines follow a click on the same sku by the same user")

# deliveries: shipped after ordering, arriving later; a few never arrive
first_t = valid.groupby("order_id").t.min()
dl = delivery.set_index("order_id")
ship = pd.to_datetime(dl.ship_time.replace("", None), format="%Y-%m-%d %H:%M:%S")
arr = pd.to_datetime(dl.arr_time.replace("", None), format="%Y-%m-%d %H:%M:%S")
ot_o = first_t.reindex(dl.index)
check(((ship >= ot_o) | ship.isna()).all() and ((arr > ship) | arr.isna()).all(), "order <= ship < arrival")
lost = (dl.arr_time == "").mean()
check(0.005 < lost < 0.05, f"{lost:.3f} of orders never delivered (empty arr_time)")
hours = ((arr - ot_o).dt.total_seconds() / 3600).dropna()
check(hours.median() > 12 and hours.quantile(0.9) > 1.5 * hours.median(),
      f"delivery delays with a long tail: median {hours.median():.1f} h, 90th percentile {hours.quantile(0.9):.1f} h")

if bad:
    print(f"{len(bad)} checks failed", file=sys.stderr)
    sys.exit(1)
print("PASS generate shape")
EOF
  ;;

errors)
  expect_error() {
    local what=$1 pattern=$2
    shift 2
    local rc=0
    timeout 60 "$BIN" generate "$@" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
    [ "$rc" = 2 ] || fail "$what: exit status $rc, expected 2 ($(cat "$work/err.txt"))"
    [ "$(wc -l <"$work/err.txt")" = 1 ] || fail "$what: expected one error line, got: $(cat "$work/err.txt")"
    grep -q -- "$pattern" "$work/err.txt" || fail "$what: '$pattern' not in: $(cat "$work/err.txt")"
    [ ! -e "$work/x" ] || [ -z "$(ls -A "$work/x")" ] || fail "$what: files written: $(ls "$work/x")"
  }
  expect_error "no users" "--users N is required" --out "$work/x"
  expect_error "no out" "--out DIR is required" --users 10
  expect_error "text users" "needs a whole number, got 'ten'" --out "$work/x" --users ten
  expect_error "zero users" "between 1 and" --out "$work/x" --users 0
  expect_error "negative users" "needs a whole number, got '-5'" --out "$work/x" --users -5
  expect_error "huge users" "between 1 and" --out "$work/x" --users 99999999999999
  expect_error "bad seed" "--seed needs a whole number, got '4x'" --out "$work/x" --users 10 --seed 4x
  expect_error "overflowing seed" "too large" --out "$work/x" --users 10 --seed 99999999999999999999
  expect_error "other layout" "layout 'online-retail' cannot be generated" --layout online-retail --out "$work/x" --users 10
  expect_error "unknown option" "unexpected argument '--user'" --out "$work/x" --user 10
  expect_error "missing value" "--users needs a value" --out "$work/x" --users
  # an output path that cannot be a folder: one clear line (status 4), no hang, at 2 ranks too
  touch "$work/file"
  rc=0
  timeout 60 $MPIRUN -np 2 "$BIN" generate --out "$work/file/sub" --users 10 >/dev/null 2>"$work/err.txt" || rc=$?
  [ "$rc" = 4 ] || fail "unwritable folder: exit status $rc ($(cat "$work/err.txt"))"
  grep -q "cannot create folder" "$work/err.txt" || fail "unwritable folder: $(cat "$work/err.txt")"
  # --help prints the usage and succeeds
  "$BIN" generate --help | grep -q -- "--users N" || fail "--help does not show the usage"
  echo "PASS generate errors"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
