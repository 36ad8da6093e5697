"""Independent reference for the lifetime-value models (issue 16).

Written from the papers and DATA.md 8 with numpy and scipy; it never calls
segcast and shares no code with it:
  - Fader, Hardie and Lee (2005), "Counting your customers the easy way",
    Marketing Science 24(2): the BG/NBD likelihood (eq. 6), P(alive) and
    the conditional expectation (eq. 10, with scipy.special.hyp2f1);
  - Fader and Hardie, "The Gamma-Gamma model of monetary value": its
    likelihood and the expected transaction value.
The likelihood is written as the paper writes it, with betaln and a
two-term log-sum-exp weighted by the terms' shares (not segcast's
log-parameter form), and maximised with L-BFGS-B on the log-parameters,
then polished by solving gradient = 0 with scipy.optimize.root (hybr), so
the answer is the maximum to the precision of double sums.

Usage:
  clv_ref.py check TRANSACTIONS_CSV OUTDIR --user COL --date COL --amount COL
             [--quantity COL] [--holdout DAYS] [--unit DAYS] [--horizon DAYS]
             [--published] [--tol 1e-6]
      Computes everything from the raw CSV (DATA.md 2 cleaning: amount > 0
      and, with a quantity column, quantity > 0) and compares with
      OUTDIR/clv.csv and OUTDIR/summary.json: parameters, log-likelihoods,
      every customer's x, t_x, T, m_x, p_alive, churned, expected purchases,
      expected value, clv and holdout purchases, and the holdout totals,
      within --tol relative (values below 1e-12 absolute). --published
      also checks that the estimates are within 15 % of FHL's and Fader and
      Hardie's CDNOW figures and prints both. Exits 1 on any difference.

The functions fit_bgnbd and fit_gg are also the scipy side of
bench/clv_vs_scipy.py.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import pandas as pd
from scipy import optimize, special

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}


# ---- BG/NBD (FHL 2005) -------------------------------------------------------

def bgnbd_ll(params, x, tx, T):
    """Per-customer log-likelihood, eq. 6."""
    r, al, a, b = params
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(al)
    ln_a2 = special.betaln(a, b + x) - special.betaln(a, b)
    ln_a3 = -(r + x) * np.log(al + T)
    rep = x > 0
    ln_a4 = np.full_like(ln_a3, -np.inf)
    ln_a4[rep] = np.log(a) - np.log(b + x[rep] - 1) - (r + x[rep]) * np.log(al + tx[rep])
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4), ln_a3, ln_a4


def bgnbd_grad(params, x, tx, T):
    """Gradient of the summed log-likelihood in the natural parameters."""
    r, al, a, b = params
    ll, ln_a3, ln_a4 = bgnbd_ll(params, x, tx, T)
    tot = np.logaddexp(ln_a3, ln_a4)
    w3, w4 = np.exp(ln_a3 - tot), np.exp(ln_a4 - tot)  # shares of the two terms
    rep = x > 0
    bx1 = np.where(rep, b + x - 1, 1.0)
    g_r = special.digamma(r + x) - special.digamma(r) + np.log(al) - w3 * np.log(al + T) - w4 * np.log(al + tx)
    g_al = r / al - w3 * (r + x) / (al + T) - w4 * (r + x) / (al + tx)
    g_a = special.digamma(a + b) - special.digamma(a + b + x) + w4 / a
    g_b = special.digamma(b + x) - special.digamma(a + b + x) - special.digamma(b) + special.digamma(a + b) - w4 / bx1
    return np.array([g_r.sum(), g_al.sum(), g_a.sum(), g_b.sum()])


def maximise(ll_sum, grad, n, start):
    """L-BFGS-B on log-parameters, then gradient = 0 by root finding."""
    def f(th):
        p = np.exp(th)
        v = ll_sum(p)
        return -v, -grad(p) * p

    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B",
                            options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-9 * n})
    th = res.x
    root = optimize.root(lambda t: grad(np.exp(t)) * np.exp(t), th, method="hybr", options={"xtol": 1e-15})
    if root.success and ll_sum(np.exp(root.x)) >= ll_sum(np.exp(th)) - 1e-9 * n:
        th = root.x
    p = np.exp(th)
    return p, ll_sum(p), float(np.linalg.norm(grad(p) * p)), res.nit


def fit_bgnbd(x, tx, T):
    x = x.astype(float)
    start = np.log([1.0, max(T.sum() / max(x.sum(), 1), 1e-3), 1.0, 1.0])
    return maximise(lambda p: bgnbd_ll(p, x, tx, T)[0].sum(), lambda p: bgnbd_grad(p, x, tx, T), len(x), start)


def p_alive(params, x, tx, T):
    r, al, a, b = params
    out = np.ones(len(x))
    rep = x > 0
    out[rep] = 1 / (1 + a / (b + x[rep] - 1) * ((al + T[rep]) / (al + tx[rep])) ** (r + x[rep]))
    return out


def expected_purchases(params, x, tx, T, h):
    """Eq. 10: expected transactions in the next h units."""
    r, al, a, b = params
    z = h / (al + T + h)
    f = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    cond = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + h)) ** (r + x) * f)
    return cond * p_alive(params, x, tx, T)


# ---- Gamma-Gamma (Fader and Hardie) --------------------------------------------

def gg_ll(params, x, m):
    p, q, g = params
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x))


def gg_grad(params, x, m):
    p, q, g = params
    px = p * x
    lgmx = np.log(g + m * x)
    g_p = x * (special.digamma(px + q) - special.digamma(px) + np.log(m) + np.log(x) - lgmx)
    g_q = special.digamma(px + q) - special.digamma(q) + np.log(g) - lgmx
    g_g = q / g - (px + q) / (g + m * x)
    return np.array([g_p.sum(), g_q.sum(), g_g.sum()])


def fit_gg(x, m):
    x = x.astype(float)
    start = np.log([2.0, 3.0, m.mean()])
    return maximise(lambda p: gg_ll(p, x, m).sum(), lambda p: gg_grad(p, x, m), len(x), start)


def expected_value(params, x, m):
    p, q, g = params
    pop = g * p / (q - 1)
    out = np.full(len(x), pop)
    rep = x > 0
    px = p * x[rep]
    out[rep] = (q - 1) / (px + q - 1) * pop + px / (px + q - 1) * m[rep]
    return out


# ---- the data (DATA.md 2 and 8) ------------------------------------------------

def summaries(path, ucol, dcol, acol, qcol, holdout, unit):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    amount = pd.to_numeric(df[acol])
    valid = amount > 0
    if qcol:
        valid &= pd.to_numeric(df[qcol]) > 0
    d = pd.DataFrame({"user": df[ucol].astype(np.int64), "day": (pd.to_datetime(df[dcol].str.slice(0, 10))
                                                                 - pd.Timestamp("1970-01-01")).dt.days,
                      "amount": amount})[valid]
    as_of = int(d["day"].max()) + 1
    cal_end = as_of - 1 - holdout
    tr = d.groupby(["user", "day"], as_index=False)["amount"].sum()  # one transaction per customer-day
    first = tr.groupby("user")["day"].min().rename("first")
    tr = tr.join(first, on="user")
    tr = tr[tr["first"] <= cal_end]
    cal = tr[tr["day"] <= cal_end]
    g = cal.groupby("user")
    c = pd.DataFrame({"first": g["day"].min(), "last": g["day"].max(), "n": g["day"].size(),
                      "total": g["amount"].sum()})
    first_value = cal[cal["day"] == cal["first"]].groupby("user")["amount"].sum()
    c["x"] = c["n"] - 1
    c["tx"] = (c["last"] - c["first"]) / unit
    c["T"] = (cal_end + 1 - c["first"]) / unit
    c["m"] = np.where(c["x"] > 0, (c["total"] - first_value.reindex(c.index)) / c["x"].clip(lower=1), np.nan)
    hold = tr[tr["day"] > cal_end].groupby("user").size()
    c["holdout"] = hold.reindex(c.index).fillna(0).astype(np.int64)
    return c.sort_index(), as_of, cal_end


# ---- the check -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["check"])
    ap.add_argument("csv")
    ap.add_argument("out")
    ap.add_argument("--user", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--amount", required=True)
    ap.add_argument("--quantity")
    ap.add_argument("--holdout", type=int, default=0)
    ap.add_argument("--unit", type=int, default=7)
    ap.add_argument("--horizon", type=int, default=365)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--published", action="store_true")
    ap.add_argument("--tol", type=float, default=1e-6)
    a = ap.parse_args()

    c, as_of, cal_end = summaries(a.csv, a.user, a.date, a.amount, a.quantity, a.holdout, a.unit)
    x, tx, T = c["x"].to_numpy(np.int64), c["tx"].to_numpy(), c["T"].to_numpy()
    bg, bg_ll, bg_gn, _ = fit_bgnbd(x, tx, T)
    rep = (x > 0) & (c["m"].to_numpy() > 0)
    gg, gg_ll_v, gg_gn, _ = fit_gg(x[rep], c["m"].to_numpy()[rep])
    h = (a.holdout if a.holdout > 0 else a.horizon) / a.unit
    pa = p_alive(bg, x, tx, T)
    ep = expected_purchases(bg, x, tx, T, h)
    ev = expected_value(gg, x, np.nan_to_num(c["m"].to_numpy()))
    clv = ep * ev

    bad = []
    checked = 0

    def close(got, want, what):
        nonlocal checked
        checked += 1
        if not (abs(got - want) <= a.tol * abs(want) or abs(got - want) <= 1e-12):
            bad.append(f"{what}: segcast {got!r}, reference {want!r}")

    s = json.load(open(os.path.join(a.out, "summary.json")))["clv"]
    names = ["r", "alpha", "a", "b"]
    for i, k in enumerate(names):
        close(s["bgnbd"][k], bg[i], f"BG/NBD {k}")
    close(s["bgnbd"]["log_likelihood"], bg_ll, "BG/NBD log-likelihood")
    for i, k in enumerate(["p", "q", "gamma"]):
        close(s["gamma_gamma"][k], gg[i], f"Gamma-Gamma {k}")
    close(s["gamma_gamma"]["log_likelihood"], gg_ll_v, "Gamma-Gamma log-likelihood")
    if s["customers"] != len(c):
        bad.append(f"customers: segcast {s['customers']}, reference {len(c)}")

    got = pd.read_csv(os.path.join(a.out, "clv.csv"))
    if list(got["user_id"]) != list(c.index):
        bad.append("clv.csv: not the reference's customers in user_id order")
    else:
        cols = {"t_x": tx, "T": T, "p_alive": pa, "expected_purchases": ep, "expected_value": ev, "clv": clv}
        for name, want in cols.items():
            g_ = got[name].to_numpy()
            for i in np.nonzero(~((np.abs(g_ - want) <= a.tol * np.abs(want)) | (np.abs(g_ - want) <= 1e-12)))[0][:5]:
                bad.append(f"clv.csv {name} of user {c.index[i]}: segcast {g_[i]!r}, reference {want[i]!r}")
            checked += len(want)
        gm, wm = got["m_x"].to_numpy(), c["m"].to_numpy()
        both = ~np.isnan(wm)
        if not (np.array_equal(np.isnan(gm), ~both) and np.allclose(gm[both], wm[both], rtol=a.tol, atol=1e-12)):
            bad.append("clv.csv m_x differs")
        if not np.array_equal(got["x"].to_numpy(), x):
            bad.append("clv.csv x differs")
        if not np.array_equal(got["churned"].to_numpy(), (pa < a.threshold).astype(int)):
            n = int((got["churned"].to_numpy() != (pa < a.threshold)).sum())
            bad.append(f"clv.csv churned differs for {n} customers")
        if a.holdout > 0:
            if not np.array_equal(got["holdout_purchases"].to_numpy(), c["holdout"].to_numpy()):
                bad.append("clv.csv holdout_purchases differ")
            close(s["holdout"]["predicted"], ep.sum(), "holdout predicted total")
            if s["holdout"]["actual"] != int(c["holdout"].sum()):
                bad.append(f"holdout actual: segcast {s['holdout']['actual']}, reference {int(c['holdout'].sum())}")
        checked += 4 * len(x)

    print(f"reference: {len(c)} customers, cal_end day {cal_end}; BG/NBD r={bg[0]:.6g} alpha={bg[1]:.6g} "
          f"a={bg[2]:.6g} b={bg[3]:.6g} LL={bg_ll:.10g} |g|={bg_gn:.2g}; Gamma-Gamma p={gg[0]:.6g} q={gg[1]:.6g} "
          f"gamma={gg[2]:.6g} LL={gg_ll_v:.10g} |g|={gg_gn:.2g} ({int(rep.sum())} customers)")
    if a.holdout > 0:
        print(f"holdout: predicted {ep.sum():.2f} transactions, actual {int(c['holdout'].sum())}")
    if a.published:
        est = dict(zip(names, bg)) | dict(zip(["p", "q", "gamma"], gg))
        for k, v in PUBLISHED.items():
            print(f"  {k}: segcast {s['bgnbd'].get(k, s['gamma_gamma'].get(k)):.4f}  published {v}  "
                  f"({100 * (est[k] / v - 1):+.1f} %)")
            if abs(est[k] / v - 1) > 0.15:
                bad.append(f"{k} = {est[k]:.4g} is not within 15 % of the published {v}")
    for b_ in bad[:40]:
        print("MISMATCH:", b_)
    print(f"clv reference: {checked} values compared, {len(bad)} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
