#!/usr/bin/env bash
# Hostile text from the input in the BI outputs (issue 17 item 4).
# A small online-retail file whose countries and stock codes carry
# spreadsheet formulas (=HYPERLINK(...), +1, -cmd, @SUM, tab- and CR-led
# text), a negative number as a country (-3.5), HTML markup (<script>,
# <img onerror>, '"', '&'), and rejected rows whose raw text starts with a
# formula. Then:
#  1. guarded (the default, at 2 ranks): no cell of any output CSV starts
#     with = + @ tab or CR, one starting with '-' is a decimal number, and
#     each hostile value shows up in daily_sales, top_regions, forecast and
#     rejects with a leading "'" (the CSV quoting intact: Python's csv
#     module reads every file back);
#  2. output.csv_raw_text = true (1 rank): the same files hold the text as
#     it came, and they equal the guarded files with the "'" taken off
#     exactly the guarded cells (nothing else changes);
#  3. predict: a hostile user_id comes back guarded and quoted;
#  4. report.html escapes markup in every text column: the input's sku and
#     region, and (by editing the CSVs, then `segcast report`) the cluster
#     and segment names and the feature names: no raw <script>, <img, or
#     unescaped '&' / '"' from the data, the escaped forms present.
set -euo pipefail
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }

"$PY" - "$W/retail.csv" <<'EOF'
import csv, datetime, sys
countries = ['=HYPERLINK("http://evil.example/","click")', "+1", "-cmd", "@SUM(A1:A9)", "\tTAB", "\rCR", "-3.5",
             "United Kingdom", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", 'say "hi"', "R&D"]
skus = ["85123A", "12345<script>alert(2)</script>", "22222<img src=y onerror=alert(2)>", '33333 "q" & co']
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\r\n")  # CRLF: the writer then quotes the CR-led country
    w.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])
    inv = 536000
    d0 = datetime.date(2011, 1, 3)
    for day in range(70):
        date = d0 + datetime.timedelta(days=day)
        for ci, c in enumerate(countries):
            for si, s in enumerate(skus):
                if (day + ci + si) % 3 == 0:
                    continue
                inv += 1
                cust = 12000 + (ci * 7 + si * 3 + day) % 40
                qty = 1 + (day * 7 + ci * 3 + si) % 9
                w.writerow([inv, s, "=1+1" if si == 0 else "-desc @x", qty, f"{date} 10:{ci:02d}:00",
                            f"{1.5 + si:.2f}", f"{cust}.0", c])
        # a non-product line with a formula stock code (loaded, never a sale)
        w.writerow([inv, "=cmd|' /C calc'!A0", "POSTAGE", 1, f"{date} 11:00:00", "18.00", "12001.0", "=evil()"])
    # rejected rows whose raw text starts with a formula (bad invoice numbers)
    for bad in ["=BAD()", "+BAD", "-BAD", "@BAD", "\tBAD"]:
        f.write(bad + ",85123A,X,1,2011-01-05 10:00:00,1.00,12001.0,United Kingdom\n")
EOF

common=(--set input.layout=online-retail --set input.path="$W/retail.csv" --set input.max_reject_fraction=0.5
  --set segment.k_max=4 --set segment.n_init=2 --set forecast.rounds=10 --set forecast.max_depth=3
  --set forecast.test_days=7 --set forecast.valid_days=7 --set clv.holdout_days=0)
$SEGCAST_MPIRUN -np 2 "$SEGCAST_BIN" run "${common[@]}" --set run.out="$W/g" > "$W/g.log" 2>&1 || { tail -20 "$W/g.log"; fail "guarded run"; }
"$SEGCAST_BIN" run "${common[@]}" --set run.out="$W/r" --set output.csv_raw_text=true > "$W/r.log" 2>&1 || { tail -20 "$W/r.log"; fail "raw run"; }

"$PY" - "$W/g" "$W/r" <<'EOF' || fail "CSV cells"
import csv, glob, os, re, sys
g, r = sys.argv[1], sys.argv[2]
hostile = ['=HYPERLINK("http://evil.example/","click")', "+1", "-cmd", "@SUM(A1:A9)", "\tTAB", "\rCR"]
decimal = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
bad = []
def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, strict=True))
def guarded(v):
    return v[:1] in ("=", "+", "-", "@", "\t", "\r") and not decimal.match(v)
files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(g, "*.csv")))
assert set(files) == set(os.path.basename(p) for p in glob.glob(os.path.join(r, "*.csv"))), "not the same CSVs"
for name in files:
    G, R = read(os.path.join(g, name)), read(os.path.join(r, name))
    if len(G) != len(R):
        bad.append(f"{name}: {len(G)} rows guarded, {len(R)} raw")
        continue
    for i, (gr, rr) in enumerate(zip(G, R)):
        if len(gr) != len(rr):
            bad.append(f"{name} row {i}: field counts differ")
            continue
        for a, b in zip(gr, rr):
            if guarded(a):
                bad.append(f"{name} row {i}: unguarded formula cell {a!r}")
            want = "'" + b if guarded(b) else b
            if a != want:
                bad.append(f"{name} row {i}: guarded {a!r}, raw {b!r}")
def column(d, name, col):
    rows = read(os.path.join(d, name))
    j = rows[0].index(col)
    return set(x[j] for x in rows[1:])
for name, col in [("daily_sales.csv", "region_id"), ("top_regions.csv", "region_id"), ("forecast.csv", "region_id")]:
    G, R = column(g, name, col), column(r, name, col)
    for h in hostile:
        if "'" + h not in G: bad.append(f"{name}: {col} {h!r} not guarded")
        if h not in R: bad.append(f"{name} (raw): {col} {h!r} missing")
    if "-3.5" not in G: bad.append(f"{name}: the number -3.5 changed")
    if any(v.startswith("'") for v in R): bad.append(f"{name} (raw): a guarded cell")
rej = read(os.path.join(g, "rejects.csv"))
raws = [x[3] for x in rej[1:]]
for b in ["=BAD()", "+BAD", "-BAD", "@BAD", "\tBAD"]:
    if not any(x.startswith("'" + b + ",") for x in raws): bad.append(f"rejects.csv: raw {b!r} not guarded")
rraws = [x[3] for x in read(os.path.join(r, "rejects.csv"))[1:]]
if not any(x.startswith("=BAD(),") for x in rraws): bad.append("rejects.csv (raw): raw text changed")
if len(raws) != 5: bad.append(f"rejects.csv: {len(raws)} rows, 5 expected")
for m in bad[:30]: print(m)
sys.exit(1 if bad else 0)
EOF

# predict: the input's user_id is text written back
printf 'user_id,recency_days,frequency,monetary\n"=1+2,3",3,4,50.5\n-7,10,1,9\n' > "$W/new.csv"
"$SEGCAST_BIN" predict --model "$W/g" --in "$W/new.csv" --out "$W/pred.csv" > "$W/p.log" 2>&1 || { cat "$W/p.log"; fail "predict"; }
grep -q "^\"'=1+2,3\",[0-9]*," "$W/pred.csv" || { cat "$W/pred.csv"; fail "predict: user_id not guarded and quoted"; }
grep -q "^-7,[0-9]*," "$W/pred.csv" || { cat "$W/pred.csv"; fail "predict: a number changed"; }

# report.html: markup in every text column
H="$W/g/report.html"
chk() { # PAGE: no raw markup from the data; the escaped forms present
  "$PY" - "$1" <<'EOF'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
bad = []
for raw in ["<script>alert(", "</script>alert", "<img src=x", "<img src=y", "<img src=z"]:
    if raw in page: bad.append(f"raw markup {raw!r} in the page")
cells = re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
for esc in ["&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "say &quot;hi&quot;",
            "R&amp;D", "12345&lt;script&gt;alert(2)&lt;/script&gt;", "22222&lt;img src=y onerror=alert(2)&gt;",
            "33333 &quot;q&quot; &amp; co"]:
    if esc not in cells: bad.append(f"no table cell {esc!r}")
for c in cells:
    if re.search(r"&(?!(amp|lt|gt|quot|#39);)", c): bad.append(f"unescaped & in cell {c!r}")
    if '"' in c or "<" in c: bad.append(f"unescaped markup in cell {c!r}")
n = page.count("</script>")
if n != 3: bad.append(f"{n} </script> tags, 3 expected (the page's own)")
for m in bad[:20]: print(m)
sys.exit(1 if bad else 0)
EOF
}
chk "$H" || fail "report.html (input text)"
# segcast's own names as hostile as the input's: the other text columns
"$PY" - "$W/g" <<'EOF'
import csv, os, sys
d = sys.argv[1]
evil = ["<script>alert(3)</script>", '<img src=z onerror=alert(3)> "x" & y']
for name, col in [("segment_profiles.csv", "cluster_name"), ("rfm_segments.csv", "rfm_segment"),
                  ("feature_importance.csv", "feature")]:
    p = os.path.join(d, name)
    rows = list(csv.reader(open(p, newline="", encoding="utf-8")))
    j = rows[0].index(col)
    for i, row in enumerate(rows[1:]):
        row[j] = evil[i % 2] + row[j]
    with open(p, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
EOF
"$SEGCAST_BIN" report --set run.out="$W/g" > "$W/rep.log" 2>&1 || { cat "$W/rep.log"; fail "segcast report"; }
chk "$H" || fail "report.html (cluster, segment and feature names)"
grep -q '&lt;script&gt;alert(3)&lt;/script&gt;' "$H" || fail "cluster names not shown escaped"
grep -q '&lt;img src=z onerror=alert(3)&gt; &quot;x&quot; &amp; y' "$H" || fail "names with quotes not shown escaped"
echo "PASS: hostile cells guarded in every CSV, raw on request, escaped in report.html"
