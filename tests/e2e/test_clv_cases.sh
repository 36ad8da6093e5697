#!/usr/bin/env bash
# The clv stage on data the models cannot or can only just fit (issue 16):
#   1. one customer with one transaction, and a few customers none of whom
#      came back (no repeat customers): exit 0; summary.json says BG/NBD
#      and Gamma-Gamma are not fitted and why; clv.csv has every customer
#      with P(alive) = 1 (exact for x = 0 whatever the parameters),
#      churned 0 and empty predictions; no crash at 1 and 3 ranks (ranks
#      without customers);
#   2. one customer with repeat transactions: the likelihood has no
#      maximum at finite parameters: not fitted, reason given, empty cells;
#   3. clv.holdout_days as long as the data or longer: exit 2 with one
#      line naming the key and the data's dates, and no clv.csv;
#   4. clv.annual_discount_rate: CLV is below the undiscounted one, and
#      equals the documented sum of each week's expected purchases at its
#      discount factor (recomputed here with scipy's 2F1);
#   5. clv.enabled = false: segcast run writes no clv.csv;
#   6. Online Retail, where BG/NBD's likelihood rises towards a = 0 (no
#      dropout): the fit is its limit there, the NBD, said so in
#      summary.json (a = 0, b null), with r and alpha equal to an
#      independent scipy fit of the NBD and expected purchases
#      (r+x) h / (alpha+T).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
cols() { echo "--set input.layout=transactions --set input.path=$1 --set input.user=customer_id --set input.date=date
  --set input.amount=dollar_value --set forecast.enabled=false"; }
# clv NP OUT CSV ARGS...: ingest then clv; prints the exit status of clv
clv() {
  local np=$1 out=$2 csv=$3 rc=0
  shift 3
  "$SEGCAST_BIN" ingest $(cols "$csv") --set run.out="$out" > "$out.ilog" 2>&1 || { cat "$out.ilog"; fail "ingest $csv"; }
  $SEGCAST_MPIRUN -np "$np" "$SEGCAST_BIN" clv $(cols "$csv") --set run.out="$out" "$@" > "$out.log" 2>&1 || rc=$?
  echo "$rc"
}
not_fitted() { # OUT MODEL WORDS
  $py - "$1" "$2" "$3" <<'EOF' || fail "$1: $2 should be 'not fitted' with a reason containing '$3'"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))["clv"][sys.argv[2]]
assert s["fitted"] is False and sys.argv[3] in s["reason"], s
EOF
}

printf 'customer_id,date,dollar_value\n7,2020-03-05,10.00\n' > "$tmp/one.csv"
printf 'customer_id,date,dollar_value\n1,2020-01-05,10.00\n2,2020-02-05,30.00\n3,2020-06-01,12.50\n3,2020-06-01,2.50\n' \
  > "$tmp/norep.csv"
printf 'customer_id,date,dollar_value\n1,2020-01-05,10.00\n1,2020-02-05,30.00\n1,2020-06-01,12.50\n' > "$tmp/onerep.csv"

for np in 1 3; do
  for c in one norep; do
    [ "$(clv $np "$tmp/$c$np" "$tmp/$c.csv")" = 0 ] || fail "$c at $np ranks: $(tail -n 3 "$tmp/$c$np.log")"
    not_fitted "$tmp/$c$np" bgnbd "no customer made a repeat transaction"
    not_fitted "$tmp/$c$np" gamma_gamma "Gamma-Gamma needs customers with x > 0"
    grep -q "BG/NBD not fitted: no customer made a repeat transaction" "$tmp/$c$np.log" || fail "no line on stdout"
    tail -n +2 "$tmp/$c$np/clv.csv" | awk -F, '$2 != 0 || $6 != 1 || $7 != 0 || $8 != "" || $9 != "" || $10 != "" { bad = 1 }
      END { exit bad }' || fail "$c: clv.csv rows are not x = 0, p_alive 1, churned 0, empty predictions: $(cat "$tmp/$c$np/clv.csv")"
  done
  [ "$(tail -n +2 "$tmp/norep$np/clv.csv" | cut -d, -f1 | tr '\n' ' ')" = "1 2 3 " ] || fail "norep customers"
  cmp "$tmp/norep1/clv.csv" "$tmp/norep$np/clv.csv" || fail "no-repeat clv.csv differs at $np ranks"
  echo "ok  one customer, no repeat customers at $np ranks: not fitted, said so, P(alive) 1, empty predictions"
done

[ "$(clv 1 "$tmp/onerep" "$tmp/onerep.csv")" = 0 ] || fail "one repeat customer: $(tail -n 3 "$tmp/onerep.log")"
not_fitted "$tmp/onerep" bgnbd "no maximum at finite parameters"
[ "$(tail -n 1 "$tmp/onerep/clv.csv")" = "1,2,21.14285714,21.28571429,21.25,,,,," ] ||
  fail "one repeat customer's row: $(tail -n 1 "$tmp/onerep/clv.csv")"
echo "ok  one customer with repeat transactions: no finite maximum, said so"

# 3. holdouts as long as the data (157 days, 2020-01-05 .. 2020-06-01) or longer
for h in 149 400; do
  rc=$(clv 2 "$tmp/h$h" "$tmp/norep.csv" --set clv.holdout_days=$h)
  [ "$rc" = 2 ] || fail "holdout $h: exit $rc, want 2"
  [ "$(grep -c 'segcast: error' "$tmp/h$h.log")" = 1 ] &&
    grep -q "segcast: error: clv: clv.holdout_days = $h leaves no calibration period: the valid lines before as_of run from 2020-01-05 to 2020-06-01 (149 days); set clv.holdout_days below 149" "$tmp/h$h.log" ||
    fail "holdout $h message: $(cat "$tmp/h$h.log")"
  [ ! -e "$tmp/h$h/clv.csv" ] || fail "a failed run left clv.csv"
done
[ "$(clv 1 "$tmp/h148" "$tmp/norep.csv" --set clv.holdout_days=148)" = 0 ] || fail "holdout 148 (one calibration day)"
echo "ok  holdouts as long as the data or longer: one clear line; one day shorter runs"

# 4. discounting, on CDNOW's first 3,000 customers
xz -dc "$SEGCAST_SHARED/data/cdnow_master.csv.xz" | awk -F, 'NR == 1 || $1 + 0 <= 3000' | cut -d, -f1,2,4 > "$tmp/cd.csv"
[ "$(clv 1 "$tmp/d0" "$tmp/cd.csv")" = 0 ] || fail "undiscounted"
[ "$(clv 1 "$tmp/d1" "$tmp/cd.csv" --set clv.annual_discount_rate=0.2)" = 0 ] || fail "discounted"
$py - "$tmp/d0" "$tmp/d1" <<'EOF' || fail "discounting"
import json, sys
import numpy as np, pandas as pd
from scipy import special
a, b = (pd.read_csv(p + "/clv.csv") for p in sys.argv[1:3])
s = json.load(open(sys.argv[2] + "/summary.json"))["clv"]
r, al, A, B = (s["bgnbd"][k] for k in ("r", "alpha", "a", "b"))
assert (a.expected_purchases == b.expected_purchases).all() and (b.clv < a.clv).all()
def E(x, T, t):  # FHL eq. 10 without P(alive)
    z = t / (al + T + t)
    return (A + B + x - 1) / (A - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * special.hyp2f1(r + x, B + x, A + B + x - 1, z))
h = 365 / 7
ks = np.minimum(np.arange(1, int(np.ceil(h)) + 1), h)
for _, c in b.sample(200, random_state=1).iterrows():
    e = np.array([E(c.x, c["T"], t) for t in ks])
    disc = np.sum(np.diff(np.concatenate([[0], e])) * 1.2 ** (-ks * 7 / 365))
    want = c.p_alive * disc * c.expected_value
    assert abs(c.clv - want) <= 1e-6 * want, (c.user_id, c.clv, want)
print(f"ok  discounted CLV is {b.clv.sum() / a.clv.sum():.4f} of undiscounted, and equals the weekly sum")
EOF

# 5. clv.enabled = false
"$SEGCAST_BIN" run $(cols "$tmp/cd.csv") --set clv.enabled=false --set segment.k=3 --set run.out="$tmp/off" > "$tmp/off.log" 2>&1 ||
  { cat "$tmp/off.log"; fail "segcast run without clv"; }
[ ! -e "$tmp/off/clv.csv" ] && $py -c "import json, sys; sys.exit('clv' in json.load(open('$tmp/off/summary.json')))" ||
  fail "clv.enabled = false still ran the stage"
! grep -q "p_alive_mean" "$tmp/off/segment_profiles.csv" || fail "CLV columns without the stage"
echo "ok  clv.enabled = false: no clv outputs"
# 6. the a = 0 boundary on Online Retail
xz -dc "$SEGCAST_SHARED/data/online_retail_2010-2011.csv.xz" > "$tmp/or.csv"
OR="--set input.layout=online-retail --set input.path=$tmp/or.csv"
"$SEGCAST_BIN" ingest $OR --set run.out="$tmp/or" > /dev/null
$SEGCAST_MPIRUN -np 2 "$SEGCAST_BIN" clv $OR --set run.out="$tmp/or" > "$tmp/or.log" || { cat "$tmp/or.log"; fail "Online Retail"; }
grep -q "at the a = 0 boundary: the NBD" "$tmp/or.log" || fail "no boundary line: $(grep BG/NBD "$tmp/or.log")"
$py - "$tmp/or" <<'EOF' || fail "the a = 0 boundary"
import json, sys
import numpy as np, pandas as pd
from scipy import optimize, special
o = sys.argv[1]
s = json.load(open(o + "/summary.json"))["clv"]["bgnbd"]
assert s["fitted"] and "a = 0" in s["boundary"] and s["a"] == 0 and s["b"] is None, s
c = pd.read_csv(o + "/clv.csv")
assert (c.p_alive == 1).all() and (c.churned == 0).all()
x, T = c.x.to_numpy(float), c["T"].to_numpy()
def nll(th):  # the NBD: Poisson purchases with gamma-distributed rates, no dropout
    r, al = np.exp(th)
    return -np.sum(special.gammaln(r + x) - special.gammaln(r) + r * np.log(al) - (r + x) * np.log(al + T))
th = optimize.minimize(nll, [0.0, 1.0], method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000}).x
r, al = np.exp(th)
assert abs(s["r"] / r - 1) < 1e-6 and abs(s["alpha"] / al - 1) < 1e-6, (s["r"], r, s["alpha"], al)
assert abs(s["log_likelihood"] / -nll(th) - 1) < 1e-9
want = (r + x) * (365 / 7) / (al + T)
assert np.allclose(c.expected_purchases, want, rtol=1e-6, atol=0)
print(f"ok  Online Retail: the NBD limit, r = {r:.6g}, alpha = {al:.6g}, as scipy's fit")
EOF
echo "PASS: clv cases"
