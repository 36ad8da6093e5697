#!/usr/bin/env bash
# Limits (issue 17 item 5; docs/operations.md, "Limits"): each case gives a
# correct result or a clear one-line error, never a crash or a hang.
#   1. long lines: a 1.2 MB line and a 10 MB quoted field (with newlines)
#      are read, the same bytes at 1 and 3 ranks; a 10 MB rejected row is
#      in rejects.csv whole; a header over 64 KiB and a record over
#      input.max_record_lines are one-line errors / rejects;
#   2. dates before 1970 and after 2100 (2100-02-29 is not a date,
#      2000-02-29 is): daily and monthly tables on the right dates;
#      dates more than 100 years apart are one clear error;
#   3. ids near 2^63: kept exactly in every output; 2^63 is a bad id;
#   4. one customer with a million lines (1 rank): exact frequency and
#      monetary; k = 1;
#   5. a single line (one customer, one day, one SKU): segment and clv
#      work, forecast stops with one clear line (no training days), and
#      k above the customers is one clear line; 128 threads a rank (the
#      reader's per-thread text numbering holds 127) is one clear line;
#   6. k above the distinct customers: the extra cluster is empty (0
#      customers, empty means), not a crash;
#   7. more ranks than rows: 16 ranks on a 10-line file, the same bytes as
#      1 rank.
#   test_limits.sh [CASE...]   (default: all)
set -euo pipefail
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
T=(--set input.layout=transactions --set input.user=user --set input.date=date --set input.amount=amount
  --set input.sku=sku --set input.region=region)
FC=(--set forecast.rounds=5 --set forecast.max_depth=3 --set forecast.test_days=7 --set forecast.valid_days=0)
# one_error LOG WORDS: the run failed with exactly one error line holding WORDS
one_error() {
  local n
  n=$(grep -c '^segcast: error: ' "$1" || true)
  [ "$n" = 1 ] || { cat "$1"; fail "$2: $n error lines, 1 expected"; }
  grep -q "^segcast: error: .*$2" "$1" || { cat "$1"; fail "error without '$2'"; }
}
# same_csvs A B: every CSV of A equals B's
same_csvs() {
  local f n=0
  for f in "$1"/*.csv; do
    cmp -s "$f" "$2/$(basename "$f")" || fail "$(basename "$f") differs between $1 and $2"
    n=$((n + 1))
  done
  [ "$n" -gt 5 ] || fail "only $n CSVs in $1"
}
want=" ${*:-long dates ids million single kmax ranks} "
has() { [[ "$want" == *" $1 "* ]]; }

if has long; then
  "$PY" - "$W/long.csv" <<'EOF'
import sys
h = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
rows = [f"{536000 + i},{85000 + i % 5}A,THING,{1 + i % 4},2011-0{1 + i % 9}-1{i % 9} 10:00:00,2.50,{12000 + i % 20}.0,UK\n"
        for i in range(300)]
big = ("X" * 1048575 + "\n") * 10                     # 10 MB in one quoted field, over 11 lines
rows.insert(5, f'536999,85123A,"{big}",2,2011-02-03 10:00:00,1.00,12001.0,France\n')
rows.insert(9, f'536998,85124A,{"Y" * (1200 * 1024)},2,2011-02-04 10:00:00,1.00,12002.0,France\n')  # a 1.2 MB line
rows.insert(200, f'536997,85125A,"{"Z" * (10 << 20)}",x,2011-02-04 10:00:00,1.00,12003.0,Spain\n')  # rejected, 10 MB
open(sys.argv[1], "w").write(h + "".join(rows))
EOF
  R=(--set input.layout=online-retail --set input.path="$W/long.csv" --set segment.k=2 "${FC[@]}" --set input.max_record_lines=20)
  for np in 1 3; do
    $SEGCAST_MPIRUN -np $np "$SEGCAST_BIN" run "${R[@]}" --set run.out="$W/long$np" > "$W/long$np.log" 2>&1 ||
      { tail -5 "$W/long$np.log"; fail "long lines at $np ranks"; }
  done
  same_csvs "$W/long1" "$W/long3"
  "$PY" - "$W/long1" <<'EOF' || fail "long lines: counts or the rejected row"
import csv, json, sys
csv.field_size_limit(1 << 30)
d = sys.argv[1]
f = json.load(open(d + "/summary.json"))["input"]["files"]["long.csv"]
assert (f["read"], f["loaded"], f["rejected"]) == (303, 302, 1), f
rej = list(csv.reader(open(d + "/rejects.csv", newline="")))
assert len(rej) == 2 and rej[1][1] == "212" and rej[1][2] == "bad integer in Quantity", rej[1][:3]
assert len(rej[1][3]) > 10 << 20 and rej[1][3].startswith("536997,85125A,\"ZZZ"), len(rej[1][3])
skus = {r["sku_id"] for r in csv.DictReader(open(d + "/daily_sales.csv"))}
assert {"85123A", "85124A"} <= skus, skus
EOF
  "$PY" -c "print('InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,' + 'H' * 70000)
print('536365,85123A,A,6,2010-12-01 08:26:00,2.55,17850.0,UK,x')" > "$W/hdr.csv"
  rc=0
  "$SEGCAST_BIN" ingest --set input.layout=online-retail --set input.path="$W/hdr.csv" --set run.out="$W/hdr" > "$W/hdr.log" 2>&1 || rc=$?
  [ "$rc" = 3 ] || fail "a 70 KB header: exit $rc, 3 expected"
  one_error "$W/hdr.log" "hdr.csv line 1: the header line is longer than 64 KiB"
  printf 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,"a\nb\nc\nd",6,2010-12-01 08:26:00,2.55,17850.0,UK\n536366,85123A,"a\nb",6,2010-12-01 08:26:00,2.55,17850.0,UK\n' > "$W/span.csv"
  "$SEGCAST_BIN" ingest --set input.layout=online-retail --set input.path="$W/span.csv" --set run.out="$W/span" \
    --set input.max_record_lines=3 --set input.max_reject_fraction=1 > "$W/span.log" 2>&1 || { cat "$W/span.log"; fail "max_record_lines"; }
  grep -q '^span.csv,2,record longer than 3 lines (input.max_record_lines),' "$W/span/rejects.csv" || { cat "$W/span/rejects.csv"; fail "no max_record_lines reject"; }
  ! grep -q '^span.csv,6,' "$W/span/rejects.csv" || fail "the 2-line record was rejected"
  echo "ok: long lines and fields"
fi

if has dates; then
  "$PY" - "$W" <<'EOF'
import datetime, sys
for name, d0 in (("pre1970", datetime.date(1969, 11, 1)), ("post2100", datetime.date(2100, 11, 1))):
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        f.write("user,date,amount,sku,region\n")
        for i in range(120):
            d = d0 + datetime.timedelta(days=i)
            for u in range(3):
                f.write(f"{10 + u + i % 5},{d},{1 + u + i % 7}.50,{1 + u},R{u % 2}\n")
        # a leap day (1968, 2104) and a day that is not one (1900, 2100: not leap years)
        f.write("10,1968-02-29,1.00,1,R0\n10,1900-02-29,1.00,1,R0\n" if name == "pre1970" else
                "10,2104-02-29,1.00,1,R0\n10,2100-02-29,1.00,1,R0\n")
EOF
  for name in pre1970 post2100; do
    "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/$name.csv" --set run.out="$W/$name" --set segment.k=2 "${FC[@]}" \
      --set input.max_reject_fraction=0.5 > "$W/$name.log" 2>&1 || { tail -5 "$W/$name.log"; fail "$name run"; }
  done
  "$PY" - "$W" <<'EOF' || fail "dates"
import csv, datetime, json, sys
from collections import defaultdict
W = sys.argv[1]
for name, first, bad in (("pre1970", "1968-02-01", "1900-02-29"), ("post2100", "2100-11-01", "2100-02-29")):
    rows = [r for r in csv.DictReader(open(f"{W}/{name}.csv")) if r["date"] != bad]
    want = defaultdict(float)
    for r in rows:
        want[(r["date"], r["sku"], r["region"])] += float(r["amount"])
    got = {(r["date"], r["sku_id"], r["region_id"]): float(r["revenue"]) for r in csv.DictReader(open(f"{W}/{name}/daily_sales.csv"))}
    assert got == dict(want), (name, sorted(set(got) ^ set(want))[:5])
    rej = list(csv.reader(open(f"{W}/{name}/rejects.csv")))
    assert [r[2] for r in rej[1:]] == ["bad date in date"] and bad in rej[1][3], rej
    months = [r["month"] for r in csv.DictReader(open(f"{W}/{name}/monthly_revenue.csv"))]
    assert months[0] == first, months[:3]
    last = max(r["date"] for r in rows)
    s = json.load(open(f"{W}/{name}/summary.json"))
    as_of = (datetime.date.fromisoformat(last) + datetime.timedelta(days=1)).isoformat()
    assert s["as_of"] == as_of, (s["as_of"], as_of)
    fc = [r["date"] for r in csv.DictReader(open(f"{W}/{name}/forecast.csv"))]
    assert fc and max(fc) == last, (fc[-1:], last)
EOF
  printf 'user,date,amount,sku,region\n5,1900-01-01,3.50,1,UK\n6,2011-01-02,3.50,1,UK\n' > "$W/wide.csv"
  rc=0
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/wide.csv" --set run.out="$W/wide" > "$W/wide.log" 2>&1 || rc=$?
  [ "$rc" != 0 ] || fail "dates 111 years apart: no error"
  one_error "$W/wide.log" "the valid lines span 1333 months (more than 1200): check the input's dates"
  echo "ok: dates before 1970 and after 2100"
fi

if has ids; then
  {
    echo "user,order,date,amount,sku,region"
    echo "9223372036854775807,9223372036854775807,2011-01-01,3.50,9223372036854775807,UK"
    echo "9223372036854775806,9223372036854775806,2011-01-05,4.50,9223372036854775806,UK"
    echo "9223372036854775807,9223372036854775805,2011-02-01,5.50,9223372036854775807,UK"
    echo "9223372036854775805.00,9223372036854775804,2011-02-02,2.25,9223372036854775805,UK"
    echo "1,1,2011-02-03,1.00,1,UK"
    echo "9223372036854775808,2,2011-01-01,1.00,1,UK"
    echo "-9223372036854775808,3,2011-01-01,1.00,1,UK"
  } > "$W/ids.csv"
  "$SEGCAST_BIN" run "${T[@]}" --set input.order=order --set input.path="$W/ids.csv" --set run.out="$W/ids" --set segment.k=2 \
    --set forecast.enabled=false --set input.max_reject_fraction=0.5 > "$W/ids.log" 2>&1 || { tail -5 "$W/ids.log"; fail "ids run"; }
  "$PY" - "$W/ids" <<'EOF' || fail "ids near 2^63"
import csv, sys
d = sys.argv[1]
seg = {r["user_id"]: r for r in csv.DictReader(open(d + "/customer_segments.csv"))}
assert sorted(seg) == sorted(["1", "9223372036854775805", "9223372036854775806", "9223372036854775807"]), sorted(seg)
assert seg["9223372036854775807"]["frequency"] == "2" and seg["9223372036854775807"]["monetary"] == "9.000000"
clv = [r["user_id"] for r in csv.DictReader(open(d + "/clv.csv"))]
assert clv == ["1", "9223372036854775805", "9223372036854775806", "9223372036854775807"], clv
top = {r["sku_id"]: r["revenue"] for r in csv.DictReader(open(d + "/top_products.csv"))}
assert top == {"9223372036854775807": "9", "9223372036854775806": "4.5", "9223372036854775805": "2.25", "1": "1"}, top
rej = [r[1:3] for r in csv.reader(open(d + "/rejects.csv"))][1:]
assert rej == [["7", "bad id in user"], ["8", "bad id in user"]], rej
EOF
  echo "ok: ids near 2^63"
fi

if has million; then
  "$PY" - "$W/million.csv" <<'EOF'
import datetime, sys
d0 = datetime.date(2009, 1, 1)
days = [str(d0 + datetime.timedelta(days=i)) for i in range(1000)]
with open(sys.argv[1], "w") as f:
    f.write("user,date,amount,sku,region\n")
    f.write("".join(f"77,{days[i % 1000]},1.25,{1 + i % 7},R{i % 3}\n" for i in range(1000000)))
EOF
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/million.csv" --set run.out="$W/million" --set segment.k=1 "${FC[@]}" \
    > "$W/million.log" 2>&1 || { tail -5 "$W/million.log"; fail "a million lines of one customer"; }
  "$PY" - "$W/million" <<'EOF' || fail "one customer, a million lines"
import csv, sys
d = sys.argv[1]
seg = list(csv.DictReader(open(d + "/customer_segments.csv")))
assert len(seg) == 1 and seg[0]["user_id"] == "77", seg
s = seg[0]
assert (s["frequency"], s["monetary"], s["product_diversity"], s["purchase_span_days"]) == ("1000000", "1250000.000000", "7", "999"), s
clv = list(csv.DictReader(open(d + "/clv.csv")))
assert len(clv) == 1 and clv[0]["x"] == "999", clv  # repeat transaction days
daily = list(csv.DictReader(open(d + "/daily_sales.csv")))
assert len(daily) == 21000 and sum(int(r["units"]) for r in daily) == 1000000, len(daily)
EOF
  echo "ok: one customer with a million lines"
fi

if has single; then
  printf 'user,date,amount,sku,region\n5,2011-01-01,3.50,1,UK\n' > "$W/one.csv"
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/one.csv" --set run.out="$W/one" --set segment.k=1 --set forecast.enabled=false \
    > "$W/one.log" 2>&1 || { tail -5 "$W/one.log"; fail "a single line"; }
  grep -q '^5,1,1,3.500000,' "$W/one/customer_segments.csv" || { cat "$W/one/customer_segments.csv"; fail "single customer's features"; }
  grep -q '^2011-01-01,1,UK,1,3.5$' "$W/one/daily_sales.csv" || fail "single day's sales"
  rc=0
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/one.csv" --set run.out="$W/one_fc" --set segment.k=1 > "$W/one_fc.log" 2>&1 || rc=$?
  [ "$rc" = 3 ] || fail "forecast on one day: exit $rc, 3 expected"
  one_error "$W/one_fc.log" "forecast: no training rows: the data's date range is not longer than forecast.test_days"
  rc=0
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/one.csv" --set run.out="$W/one_k" --set forecast.enabled=false > "$W/one_k.log" 2>&1 || rc=$?
  [ "$rc" != 0 ] || fail "k_min 2 on one customer: no error"
  one_error "$W/one_k.log" "segment: only 1 customers, fewer than segment.k_min = 2 clusters"
  # 128 threads a rank: the per-thread text numbering's limit, one clear line
  rc=0
  OMP_NUM_THREADS=128 "$SEGCAST_BIN" ingest "${T[@]}" --set input.path="$W/one.csv" --set run.out="$W/one_t" > "$W/one_t.log" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "128 threads: exit $rc, 2 expected"
  one_error "$W/one_t.log" "ingest: 128 threads a rank; the transactions reader numbers its texts per thread and takes at most 127"
  echo "ok: a single customer, day and SKU"
fi

if has kmax; then
  printf 'user,date,amount,sku,region\n5,2011-01-01,3.50,1,UK\n5,2011-01-01,3.50,1,UK\n6,2011-01-01,3.50,1,UK\n7,2011-01-01,3.50,1,UK\n' > "$W/dup.csv"
  rc=0
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/dup.csv" --set run.out="$W/dup5" --set segment.k=5 --set forecast.enabled=false > "$W/dup5.log" 2>&1 || rc=$?
  [ "$rc" != 0 ] || fail "k = 5 on 3 customers: no error"
  one_error "$W/dup5.log" "segment: only 3 customers, fewer than segment.k = 5 clusters"
  # 3 customers, 2 distinct: k = 3 leaves one cluster empty
  "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/dup.csv" --set run.out="$W/dup3" --set segment.k=3 --set forecast.enabled=false \
    > "$W/dup3.log" 2>&1 || { tail -5 "$W/dup3.log"; fail "k = 3 on 2 distinct customers"; }
  "$PY" - "$W/dup3" <<'EOF' || fail "k above the distinct customers"
import csv, sys
p = list(csv.DictReader(open(sys.argv[1] + "/segment_profiles.csv")))
assert sorted(int(r["customers"]) for r in p) == [0, 1, 2], [r["customers"] for r in p]
empty = [r for r in p if r["customers"] == "0"][0]
assert empty["monetary_mean"] == "" and empty["customer_share"] == "0.000000", empty
seg = list(csv.DictReader(open(sys.argv[1] + "/customer_segments.csv")))
assert seg[1]["cluster"] == seg[2]["cluster"] != seg[0]["cluster"], seg  # 6 and 7 are the same point
EOF
  echo "ok: k above the number of customers"
fi

if has ranks; then
  "$PY" -c "
print('user,date,amount,sku,region')
for i in range(10): print(f'{100 + i % 4},2011-0{1 + i % 3}-1{i},{1 + i}.25,{1 + i % 3},R{i % 2}')" > "$W/ten.csv"
  for np in 1 16; do
    timeout 120 $SEGCAST_MPIRUN -np $np "$SEGCAST_BIN" run "${T[@]}" --set input.path="$W/ten.csv" --set run.out="$W/ten$np" \
      --set segment.k=2 "${FC[@]}" > "$W/ten$np.log" 2>&1 || { tail -5 "$W/ten$np.log"; fail "10 lines at $np ranks"; }
  done
  same_csvs "$W/ten1" "$W/ten16"
  grep -q '"ranks": 16' "$W/ten16/summary.json" || fail "not 16 ranks"
  echo "ok: 16 ranks on 10 lines"
fi
echo "PASS: limits:$want"
