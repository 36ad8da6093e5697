#!/usr/bin/env bash
# report.html from fixture outputs (insights from a lines fixture plus small
# segmentation and forecast files with OUTPUTS.md's columns):
#  - every number equals summary.json's or the CSV's (report_numbers);
#  - headless Chromium: no console error, no network request, every chart
#    drawn with data points, title, axis titles and tooltips;
#  - the page references nothing outside itself;
#  - names with HTML and "</script>" in them neither break nor inject;
#  - without forecast outputs the section says so and the page still works;
#  - a missing Chart.js stops `segcast report` with a clear message and no
#    report.html.
#   test_report_page.sh INSIGHTS_DRIVER
set -euo pipefail
source "$(dirname "$0")/test_report_common.sh"
DRIVER="$1"
REF="$SEGCAST_ROOT/tests/ref/insights_ref.py"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
O="$W/out"
"$PY" "$REF" fixture "$W/fx" --seed 3
$SEGCAST_MPIRUN -np 2 "$DRIVER" "$W/fx/lines.csv" "$W/fx/sku_names.txt" "$W/fx/region_names.txt" "$O" > "$W/log" 2>&1 ||
  { cat "$W/log"; fail "insights driver"; }
report_fixture_outputs "$O"
# hostile names: HTML in a cluster name, a script end tag in a forecast sku
sed -i 's/^1,Loyal,/1,Loyal <b>\&amp; fans<\/b>,/' "$O/segment_profiles.csv"
sed -i 's/^85123A,/"<\/script><!--85123A",/' "$O/forecast.csv"

"$SEGCAST_BIN" report --set run.out="$O" > "$W/log" 2>&1 || { cat "$W/log"; fail "segcast report"; }
[ -s "$O/report.html" ] || fail "no report.html"
! grep -q 'class="missing"' "$O/report.html" || { grep 'class="missing"' "$O/report.html"; fail "a section says not available"; }
if grep -Eo '[[:space:]](src|href|action)="[^"#][^"]*"' "$O/report.html"; then fail "the page references an outside resource"; fi
grep -q 'Loyal &lt;b&gt;&amp;amp; fans&lt;/b&gt;' "$O/report.html" || fail "cluster name not HTML-escaped"
grep -q 'not fitted: no &lt;b&gt;repeat&lt;/b&gt; &amp; customers' "$O/report.html" || fail "a model's reason not shown or not escaped"
[ "$(grep -o '</script>' "$O/report.html" | wc -l)" -eq 3 ] || fail "a </script> from the data ended a script early"
report_numbers "$O" || fail "report numbers"
all=elbow,silhouette,segment-size,segment-share,rfm-grid,rfm-segments,lorenz,cohort,monthly,season-month
all=$all,season-weekday,top-products,top-regions,clv-p-alive,clv-lorenz,clv-clusters,clv-rfm,clv-calibration
all=$all,clv-tracking,forecast-total,forecast-series,importance
report_browser "$O" --expect "$all" || fail "browser check"

# forecast disabled: the section says so, the rest still draws
report_fixture_outputs "$O" no-forecast
"$SEGCAST_BIN" report --set run.out="$O" > "$W/log" 2>&1 || { cat "$W/log"; fail "segcast report without forecast"; }
grep -q 'forecast.csv is absent or empty' "$O/report.html" || fail "no note for the missing forecast"
grep -q 'no &quot;forecast&quot; metrics' "$O/report.html" || fail "no note for the missing forecast metrics"
! grep -q 'data-chart="forecast' "$O/report.html" || fail "forecast chart without data"
report_numbers "$O" || fail "report numbers without forecast"
report_browser "$O" --expect "${all%%,forecast-total*}" || fail "browser check without forecast"

# no sales at all (only returns and a zero price): empty tables are said,
# not drawn as empty charts (a bug once), and the page still checks out
E="$W/empty"
mkdir -p "$E"
printf 'row,user_id,order_id,sku,region,day,quantity,amount,flags\n2,5,1,0,0,15000,-2,-5.1,2\n3,0,2,1,0,15001,-1,-1.0,6\n4,7,3,1,0,15001,3,0.0,0\n' > "$E/lines.csv"
printf 'A\nB\n' > "$E/sku.txt"
printf 'UK\n' > "$E/reg.txt"
$SEGCAST_MPIRUN -np 3 "$DRIVER" "$E/lines.csv" "$E/sku.txt" "$E/reg.txt" "$E/out" > "$W/log" 2>&1 || { cat "$W/log"; fail "insights without sales"; }
"$SEGCAST_BIN" report --set run.out="$E/out" > "$W/log" 2>&1 || { cat "$W/log"; fail "segcast report without sales"; }
grep -q 'monthly_revenue.csv in .* has no rows' "$E/out/report.html" || fail "no note for an empty monthly table"
! grep -q 'data-chart="monthly"' "$E/out/report.html" || fail "empty monthly table drawn as a chart"
report_numbers "$E/out" || fail "report numbers without sales"
report_browser "$E/out" || fail "browser check without sales"

# no Chart.js: one clear error line, exit status 4, no report.html
rm -f "$O/report.html"
set +e
SEGCAST_CHARTJS=/nonexistent/chart.min.js "$SEGCAST_BIN" report --set run.out="$O" > "$W/log" 2>&1
rc=$?
set -e
[ $rc -eq 4 ] || { cat "$W/log"; fail "missing Chart.js gave exit status $rc, want 4"; }
grep -q "libjs-chart.js" "$W/log" || { cat "$W/log"; fail "missing Chart.js message does not say what to install"; }
[ ! -e "$O/report.html" ] || fail "report.html left behind after a failure"
echo "PASS: report page"
