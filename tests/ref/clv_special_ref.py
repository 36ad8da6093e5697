"""The lifetime-value special functions against mpmath (issue 16 item 3).

Independent high-precision values (mpmath at 50 digits, the formulas
written from FHL 2005 eq. 10 on their own parameters, no Euler
transformation) for segcast's ψ, ψ', 2F1 and the BG/NBD conditional
expectation, which segcast sums through Euler's transformation: cases
with large x (up to 5,000), z close to 1, a on both sides of 1 and near
it. The C side runs through tests/unit/clv_special_driver. Exits 1 on
any value off by more than the tolerance (relative 1e-12 for ψ, ψ', 2F1;
1e-10 for the expectation, whose bracket loses a few digits to
cancellation where it is small).

Usage: clv_special_ref.py DRIVER
"""
import random
import subprocess
import sys

import mpmath as mp

mp.mp.dps = 50
rng = random.Random(16)
cases = []


def add(line, want, tol):
    cases.append((line, want, tol))


for x in [1e-6, 0.01, 0.3, 0.5, 1, 2.5, 9.99, 10, 17.3, 123.4, 1e5, 1e9] + [rng.uniform(0.01, 60) for _ in range(30)]:
    add(f"psi {x!r}", mp.digamma(x), 1e-12)
    add(f"psi1 {x!r}", mp.psi(1, x), 1e-12)
for _ in range(60):
    a, b, c, z = rng.uniform(-0.9, 6), rng.uniform(0.1, 6), rng.uniform(0.2, 8), rng.uniform(0, 0.95)
    add(f"hyp {a!r} {b!r} {c!r} {z!r}", mp.hyp2f1(a, b, c, z), 1e-12)


def bg_expected(r, al, a, b, x, T, h):
    r, al, a, b, T, h = (mp.mpf(v) for v in (r, al, a, b, T, h))
    z = h / (al + T + h)
    f = mp.hyp2f1(r + x, b + x, a + b + x - 1, z, maxterms=10**6, maxprec=20000)
    return (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + h)) ** (r + x) * f)


grid = []
for x in [0, 1, 2, 7, 30, 100, 400, 1500, 5000]:
    for T, h in [(0.1, 52), (1, 39), (39, 39), (60, 5), (2, 300), (0.0, 78)]:
        grid.append((rng.uniform(0.05, 3), rng.uniform(0.2, 12), rng.uniform(0.2, 3), rng.uniform(0.3, 8), x, T, h))
grid += [(0.243, 4.414, 0.793, 2.426, x, 38.86, 39) for x in (0, 1, 5, 20)]  # FHL's CDNOW estimates
grid += [(0.5, 3, 1 + 1e-7, 2, 3, 10, 20), (0.5, 3, 1 - 1e-7, 2, 3, 10, 20), (0.5, 3, 1.5, 2, 3, 10, 20)]
for r, al, a, b, x, T, h in grid:
    add(f"bgE {r!r} {al!r} {a!r} {b!r} {x} {T!r} {h!r}", bg_expected(r, al, a, b, x, T, h), 1e-10)

res = subprocess.run([sys.argv[1]], input="\n".join(c[0] for c in cases) + "\n", capture_output=True, text=True)
if res.returncode != 0:
    sys.exit(f"driver failed: {res.stderr}")
got = res.stdout.split()
bad = 0
worst = 0.0
for (line, want, tol), g in zip(cases, got):
    g = mp.mpf(g)
    err = abs(g - want) / max(abs(want), mp.mpf("1e-300"))
    worst = max(worst, float(err))
    if err > tol:
        bad += 1
        print(f"MISMATCH {line}: segcast {g} mpmath {mp.nstr(want, 20)} (relative {mp.nstr(err, 3)})")
print(f"clv special functions: {len(cases)} values against mpmath, worst relative error {worst:.2e}, {bad} off")
sys.exit(1 if bad or len(got) != len(cases) else 0)
