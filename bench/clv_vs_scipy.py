"""segcast's clv stage against a scipy implementation of the same models.

Usage:
  /usr/bin/python3 bench/clv_vs_scipy.py DATA_DIR [--segcast BIN] [--ranks N] [--threads T]
                                         [--runs R] [--out DIR] [--holdout DAYS]

DATA_DIR is a marketplace data set (segcast generate --layout marketplace
--out DATA_DIR --users 1000000). In one run:

  segcast  `segcast ingest` once (not timed), then `segcast clv` R times at
           N ranks x T threads; each run's stage time is summary.json's
           seconds.clv (summaries from the order lines, range partition, both
           fits, predictions, every output file), its fit times
           clv.seconds.fit_bgnbd + fit_gamma_gamma. Best and median of R.
  scipy    the same likelihoods as tests/ref/clv_ref.py (FHL 2005 eq. 6,
           Fader-Hardie Gamma-Gamma), vectorised numpy with analytic
           gradients, fitted with scipy.optimize.minimize(method="L-BFGS-B")
           on the log-parameters from the same starting points, then the
           predictions (P(alive), eq. 10 with scipy.special.hyp2f1,
           expected value, CLV). Its inputs (x, t_x, T, m_x) are read from
           segcast's clv.csv before the clock starts, so the scipy side is
           timed on less work than segcast's stage. Best and median of R.

Prints the times side by side, the ratios best/best and median/median (the
issue's targets: the stage under 1 s at 2 ranks on 1M users, and at least
50x scipy), and the parameters of both sides (they must agree to 1e-4:
L-BFGS-B stops earlier than segcast's Newton).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from scipy import optimize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ref"))
import clv_ref  # noqa: E402  (the reference's likelihoods, gradients and predictions)


def run_segcast(a):
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OMP_WAIT_POLICY="passive", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_io="romio321", OMPI_MCA_pml="ob1")
    launch = [a.segcast] if a.ranks == 1 else ["mpirun", "--oversubscribe", "-np", str(a.ranks), a.segcast]
    sets = ["--set", "input.layout=marketplace", "--set", f"input.path={a.data}", "--set", f"run.out={a.out}",
            "--set", "forecast.enabled=false", "--set", f"clv.holdout_days={a.holdout}"]
    if not os.path.exists(os.path.join(a.out, "store.h5")):
        subprocess.run(launch + ["ingest"] + sets, check=True, env=env, stdout=subprocess.DEVNULL)
    stage, fits = [], []
    for _ in range(a.runs):
        subprocess.run(launch + ["clv"] + sets, check=True, env=env, stdout=subprocess.DEVNULL)
        s = json.load(open(os.path.join(a.out, "summary.json")))
        stage.append(s["seconds"]["clv"])
        fits.append(s["clv"]["seconds"]["fit_bgnbd"] + s["clv"]["seconds"]["fit_gamma_gamma"])
    return stage, fits, s["clv"]


def lbfgsb(ll_sum, grad, start):
    def f(th):
        p = np.exp(th)
        return -ll_sum(p), -grad(p) * p

    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", options={"maxiter": 10000})
    return np.exp(res.x), res.nit


def run_scipy(c, unit_h):
    x = c["x"].to_numpy(np.int64)
    xf = x.astype(float)
    tx, T = c["t_x"].to_numpy(), c["T"].to_numpy()
    m = c["m_x"].to_numpy()
    rep = x > 0
    t0 = time.perf_counter()
    bg, nit_bg = lbfgsb(lambda p: clv_ref.bgnbd_ll(p, xf, tx, T)[0].sum(), lambda p: clv_ref.bgnbd_grad(p, xf, tx, T),
                        np.log([1.0, max(T.sum() / max(xf.sum(), 1), 1e-3), 1.0, 1.0]))
    t1 = time.perf_counter()
    gg, nit_gg = lbfgsb(lambda p: clv_ref.gg_ll(p, xf[rep], m[rep]).sum(), lambda p: clv_ref.gg_grad(p, xf[rep], m[rep]),
                        np.log([2.0, 3.0, m[rep].mean()]))
    t2 = time.perf_counter()
    ep = clv_ref.expected_purchases(bg, xf, tx, T, unit_h)
    ev = clv_ref.expected_value(gg, xf, np.nan_to_num(m))
    clv = ep * ev
    t3 = time.perf_counter()
    assert np.isfinite(clv).all()
    return {"fit_bgnbd": t1 - t0, "fit_gg": t2 - t1, "predict": t3 - t2, "total": t3 - t0, "bg": bg, "gg": gg,
            "nit": (nit_bg, nit_gg)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--segcast", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "segcast"))
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="out/bench-clv")
    ap.add_argument("--holdout", type=int, default=0)
    a = ap.parse_args()
    stage, fits, summ = run_segcast(a)
    c = pd.read_csv(os.path.join(a.out, "clv.csv"))
    h = (a.holdout if a.holdout > 0 else 365) / summ["unit_days"]
    sp = [run_scipy(c, h) for _ in range(a.runs)]
    tot = [r["total"] for r in sp]
    sfit = [r["fit_bgnbd"] + r["fit_gg"] for r in sp]
    print(f"{summ['customers']:,} customers, {a.ranks} ranks x {a.threads} threads, {a.runs} runs each")
    print(f"{'':34s} {'best s':>9s} {'median s':>9s}")
    print(f"{'segcast clv, whole stage':34s} {min(stage):9.3f} {statistics.median(stage):9.3f}")
    print(f"{'segcast clv, the two fits':34s} {min(fits):9.3f} {statistics.median(fits):9.3f}")
    print(f"{'scipy L-BFGS-B: fits + predictions':34s} {min(tot):9.3f} {statistics.median(tot):9.3f}")
    print(f"{'scipy L-BFGS-B: the two fits':34s} {min(sfit):9.3f} {statistics.median(sfit):9.3f}")
    b = sp[0]
    print(f"scipy steps: BG/NBD {b['nit'][0]}, Gamma-Gamma {b['nit'][1]}; predictions {b['predict']:.3f} s")
    print(f"whole stage vs scipy fits + predictions: {min(tot) / min(stage):.1f}x best/best, "
          f"{statistics.median(tot) / statistics.median(stage):.1f}x median/median")
    print(f"fits vs fits: {min(sfit) / min(fits):.1f}x best/best, {statistics.median(sfit) / statistics.median(fits):.1f}x "
          f"median/median")
    names = [("bgnbd", k) for k in ("r", "alpha", "a", "b")] + [("gamma_gamma", k) for k in ("p", "q", "gamma")]
    ours = [summ[m][k] for m, k in names]
    theirs = list(b["bg"]) + list(b["gg"])
    worst = max(abs(o / t - 1) for o, t in zip(ours, theirs))
    print("parameters segcast / scipy: " + ", ".join(f"{k} {o:.6g}/{t:.6g}" for (_, k), o, t in zip(names, ours, theirs))
          + f" (worst relative difference {worst:.1e})")
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
