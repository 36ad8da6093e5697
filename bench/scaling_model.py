#!/usr/bin/python3
"""scaling_model.py: projects segcast's time per stage and weak-scaling
efficiency to 64, 1,024 and 4,096 ranks from measured runs.

usage: scaling_model.py SCALING_DIR [--svg FILE] [--json FILE]

SCALING_DIR is the --out folder of bench/scaling.sh: scaling.csv, and per
run <run>/summary.json and <run>.prof/rank-*.txt (every MPI call of every
rank with its function and payload, bench/scaling_mpiprof.c).

Inputs taken from the measurements
  - compute seconds per rank per stage: the 1-rank weak run (best of the
    repetitions), where compute = wall - MPI time;
  - the schedule of MPI calls of each stage, with their exact payloads:
    the weak run at the largest measured rank count (rank 0's profile);
  - peak resident memory per rank (VmHWM) of the 1-rank runs at two sizes.

How each call is carried to P ranks (weak scaling: the work per rank stays
the same, so a call's per-rank payload stays the same):
  Allreduce, Reduce, Bcast, Exscan, Scan, Barrier   same count and size
  Allgather(v), Gather(v), Scatterv, Alltoall       total payload grows as P
  Alltoallv                                         per-rank payload fixed
  Recv at rank 0 (output streaming)                 P - 1 blocks, serial
  MPI-IO data (File_write_at_all, read)             per-rank bytes fixed,
                                                    capped by the file system
  MPI-IO metadata (open, close, set_view, ...)      log2 P latency + server

Cost of one call (alpha latency, beta link bandwidth, gamma reduction cost
per byte; m bytes; P ranks; L = ceil(log2 P)):
  Allreduce   min(recursive doubling L (alpha + m/beta + m gamma),
                  Rabenseifner 2 L alpha + 2 (P-1)/P m/beta + (P-1)/P m gamma)
  Bcast       min(binomial L (alpha + m/beta),
                  scatter + allgather (L + P - 1) alpha + 2 (P-1)/P m/beta)
  Allgather   min(ring (P-1) alpha, recursive doubling L alpha) + (P-1)/P M/beta  (M = total)
  Gather(v)   L alpha + (P-1)/P M/beta
  Alltoallv   (P-1) alpha + (P-1)/P B/beta x taper         (B = per-rank payload)
  Exscan/Scan/Barrier   L (alpha + m/beta)
  rank-0 Recv (P-1) (alpha + b/beta) and rank 0 writes the (P-1) b bytes at
              the client bandwidth (it is on the critical path: every rank
              waits at the stage's end)
  file data   max(s / client_bw, P s / fs_bw)            (s = per-rank bytes)
  file meta   L alpha + fs_meta for open/close, L alpha for the others
The input CSV is read from the parallel file system: the same data formula
with s = this rank's share of the input bytes (at 1 rank here it came from
the page cache and was counted as compute).

Two scenarios are projected: "measured" (configs/small.ini at the measured
users per rank) and "production" (configs/default.ini, 250,000 users per
rank; compute and the k-means / boosting collectives scaled by the ratios
printed). For each, the baseline design and "fixed": the design changes
the model points to (see docs/scaling.md) applied.
"""
import csv
import glob
import json
import math
import os
import sys
from collections import defaultdict

CLUSTER = {
    "alpha": 1.5e-6,         # s, MPI latency on InfiniBand HDR (typical)
    "beta": 12e9,            # B/s per link and direction (HDR100: 12.5 GB/s)
    "gamma": 1 / 8e9,        # s/B, summing int64/double in a reduction
    "taper": 1.0,            # all-to-all bandwidth factor (1 = non-blocking fat tree)
    "fs_bw": 100e9,          # B/s aggregate of the parallel file system (mid-size Lustre)
    "client_bw": 5e9,        # B/s one node to the file system
    "fs_meta": 1e-3,         # s per file open/close (metadata server round trip)
    "node_mem": 256e9,       # B per node (= per rank: one rank per node, threads inside)
    "usable": 0.8,           # share of node memory for segcast (OS, buffers, MPI)
}
STAGES = ["ingest", "insights", "segment", "forecast", "report"]
PROJECT = [1, 2, 4, 64, 1024, 4096]

GROW = {"Allgather", "Allgatherv", "Gather", "Gatherv", "Scatterv", "Alltoall"}
FIXED = {"Allreduce", "Reduce", "Bcast", "Exscan", "Scan", "Barrier"}
FILE_DATA = {"File_write_at_all", "File_write_at", "File_read_at_all", "File_read_at", "File_write_all",
             "File_read_all"}
FILE_OPEN = {"File_open", "File_close"}


def lg(p):
    return math.ceil(math.log2(p)) if p > 1 else 0


def cost(op, m, p, c, per_rank=None):
    """Seconds of one call moving m bytes (for GROW ops m is the total at P)."""
    a, b, g = c["alpha"], c["beta"], c["gamma"]
    if p == 1:
        return 0.0
    L = lg(p)
    f = (p - 1) / p
    if op in ("Allreduce", "Reduce"):
        return min(L * (a + m / b + m * g), 2 * L * a + 2 * f * m / b + f * m * g)
    if op == "Bcast":
        return min(L * (a + m / b), (L + p - 1) * a + 2 * f * m / b)
    if op in ("Allgather", "Allgatherv", "Alltoall"):
        return min((p - 1) * a, L * a) + f * m / b
    if op in ("Gather", "Gatherv", "Scatterv"):
        return L * a + f * m / b
    if op == "Alltoallv":
        return (p - 1) * a + f * m / b * c["taper"]
    if op in ("Exscan", "Scan", "Barrier"):
        return L * (a + m / b)
    return L * a  # Mprobe, Waitall and other helpers of HDF5's collectives


def read_runs(folder):
    rows = list(csv.DictReader(open(os.path.join(folder, "scaling.csv"))))
    runs = defaultdict(list)
    for r in rows:
        runs[r["run"]].append(r)
    best = {}
    for run, rs in runs.items():
        tot = [r for r in rs if r["stage"] == "total"]
        if not tot:
            continue
        key = (rs[0]["mode"], int(rs[0]["ranks"]))
        if key not in best or float(tot[0]["wall_s"]) < best[key][0]:
            best[key] = (float(tot[0]["wall_s"]), run, rs)
    return best


def read_profile(folder, run):
    """Per stage: list of (cls, op, bytes) of rank 0, and every rank's HWM."""
    s = json.load(open(os.path.join(folder, run, "summary.json")))
    secs = s["seconds"]
    stages = [x for x in ["generate"] + STAGES if x in secs]
    sched = {st: [] for st in stages}
    hwm = []
    for path in sorted(glob.glob(os.path.join(folder, run + ".prof", "rank-*.txt"))):
        rank = int(path.rsplit("-", 1)[1].split(".")[0])
        init, bounds = None, []
        for line in open(path):
            p = line.split()
            if p[0] == "init":
                init = float(p[1])
                t = init
                for st in stages:
                    bounds.append((st, t + secs[st]))
                    t += secs[st]
            elif p[0] == "hwm_kb":
                hwm.append(int(p[1]) * 1024)
            elif rank == 0 and p[0] in ("coll", "p2p", "io"):
                mid = 0.5 * (float(p[1]) + float(p[2]))
                st = next((x for x, e in bounds if mid < e), stages[-1])
                sched[st].append((p[0], p[3], int(p[4])))
    return s, sched, hwm


def stage_comm(sched, p_ref, p, c, fixed_design):
    """(comm, io, serial) seconds of a stage's calls carried to p ranks."""
    comm = io = serial = 0.0
    recv_bytes = recv_n = 0
    for cls, op, m in sched:
        if op in ("Recv",) and cls == "p2p":
            recv_bytes += m
            recv_n += 1
            continue
        if op in ("Send", "Probe", "Mprobe", "Waitall", "Wait", "Isend", "Irecv") and cls == "p2p":
            continue
        if op in FILE_DATA:
            io += max(m / c["client_bw"], p * m / c["fs_bw"]) if p > 1 else m / c["client_bw"]
            continue
        if op in FILE_OPEN:
            io += lg(p) * c["alpha"] + c["fs_meta"]
            continue
        if op.startswith("File_"):
            io += lg(p) * c["alpha"]
            continue
        mm = m * p / p_ref if op in GROW else m
        if fixed_design and op == "Allgatherv" and cls == "coll" and m > 1e6:
            # quantile sketches merged in a tree of fixed-size summaries
            mm = m / p_ref
            t = lg(p) * (c["alpha"] + mm / c["beta"])
        else:
            t = cost(op, mm, p, c)
        if cls == "io":
            io += t
        else:
            comm += t
    if recv_n:
        per_rank = recv_bytes / max(p_ref - 1, 1)
        blocks = recv_n / max(p_ref - 1, 1)
        if fixed_design:
            # every rank writes its own formatted block (comm_write_ordered)
            io += max(per_rank / c["client_bw"], p * per_rank / c["fs_bw"]) + 2 * lg(p) * c["alpha"]
        elif p > 1:
            serial += (p - 1) * blocks * c["alpha"] + (p - 1) * per_rank * (1 / c["beta"] + 1 / c["client_bw"])
    return comm, io, serial


def contributors(sched, p_ref, p, c):
    """Seconds per (class, function) of a stage's calls at p ranks (baseline
    design), largest first: which collective limits the stage."""
    groups = defaultdict(list)
    for ev in sched:
        groups[(ev[0], ev[1])].append(ev)
    res = []
    for key, ev in groups.items():
        cm, io, se = stage_comm(ev, p_ref, p, c, False)
        res.append((cm + io + se, key, len(ev), sum(e[2] for e in ev)))
    return sorted(res, reverse=True)


def project(best, folder, c, scale=None, users_per_rank=None):
    """Times per stage at each P for one scenario."""
    w1 = best[("weak", 1)]
    ref_p = max(n for (m, n) in best if m == "weak")
    wr = best[("weak", ref_p)]
    s1 = json.load(open(os.path.join(folder, w1[1], "summary.json")))
    _, sched, _ = read_profile(folder, wr[1])
    comp1 = {r["stage"]: float(r["compute_s"] or r["wall_s"]) for r in w1[2] if r["stage"] in STAGES}
    in_bytes = sum(f.get("bytes", 0) for f in s1["input"]["files"].values())
    if scale:
        comp1 = {st: v * scale["compute"].get(st, scale["users"]) for st, v in comp1.items()}
        in_bytes *= scale["users"]
        sched = {st: [(cl, op, int(m * scale["bytes"].get((st, op), 1))) for cl, op, m in ev]
                 for st, ev in sched.items()}
        # repeat counts: the k-means and boosting collectives scale in number
        for st, k in scale["count"].items():
            ev = sched[st]
            extra = []
            for cl, op, m in ev:
                if cl == "coll" and op == "Allreduce":
                    extra.extend([(cl, op, m)] * (round(k) - 1))
            sched[st] = ev + extra
    out = {"_sched": sched, "_ref_p": ref_p}
    for fixed in (False, True):
        for p in PROJECT:
            row = {}
            for st in STAGES:
                cm, io, se = stage_comm(sched.get(st, []), ref_p, p, c, fixed)
                extra_read = 0.0
                if st == "ingest":
                    extra_read = max(in_bytes / c["client_bw"], p * in_bytes / c["fs_bw"])
                row[st] = {"compute": comp1.get(st, 0.0), "comm": cm, "io": io + extra_read, "serial": se}
            out[(fixed, p)] = row
    return out


def total(row):
    return sum(sum(v.values()) for v in row.values())


def memory_model(best, folder, c, p_list, lines_per_customer, customers_per_user, scale_users=1.0):
    """Peak memory per rank: a + b * users (1-rank runs at two sizes), plus
    the payload of allgathered tables that grows with P."""
    pts = []
    for key in (("weak", 1), ("strong", 1)):
        if key in best:
            s, _, hwm = read_profile(folder, best[key][1])
            pts.append((s["input"]["files"]["users.csv"]["loaded"], max(hwm)))
    pts.sort()
    (u0, m0), (u1, m1) = pts[0], pts[-1]
    slope = (m1 - m0) / (u1 - u0) if u1 != u0 else m0 / u0
    icpt = m0 - slope * u0
    ref_p = max(n for (m, n) in best if m == "weak")
    _, sched, _ = read_profile(folder, best[("weak", ref_p)][1])
    grow = max((m for ev in sched.values() for cl, op, m in ev if op in GROW), default=0) / ref_p
    # bottom-up: the input mapped, and the tables three times over while
    # ingest exchanges them (own rows, send buffer, receive buffer)
    s1 = json.load(open(os.path.join(folder, best[("weak", 1)][1], "summary.json")))
    files = s1["input"]["files"]
    users = files["users.csv"]["loaded"]
    row_bytes = {"orders.csv": 73, "clicks.csv": 28, "users.csv": 29, "inventory.csv": 20}
    table = sum(files.get(f, {}).get("loaded", 0) * b for f, b in row_bytes.items()) / users
    mapped = sum(f.get("bytes", 0) for f in files.values()) / users
    bottom_up = mapped + 3 * table
    per_user = max(slope, bottom_up)
    budget = c["node_mem"] * c["usable"]
    res = {}
    for p in p_list:
        u = (budget - icpt - grow * p * scale_users) / per_user
        res[p] = {"users_per_rank": u, "users": u * p, "customers": u * p * customers_per_user,
                  "order_lines": u * p * customers_per_user * lines_per_customer,
                  "allgather_bytes": grow * p * scale_users}
    return {"per_user_bytes_measured": slope, "per_user_bytes_bottom_up": bottom_up, "per_user_bytes": per_user,
            "fixed_bytes": icpt, "points": pts, "largest": res}


def svg_chart(series, breakdown, path):
    """Weak-scaling efficiency vs ranks (left), time per stage at 1,024 (right)."""
    W, H = 960, 420
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>']
    x0, y0, pw, ph = 60, 40, 380, 300
    out.append(f'<text x="{x0}" y="22" font-size="14">Projected weak-scaling efficiency</text>')
    xs = [1, 4, 16, 64, 256, 1024, 4096]
    def X(p):
        return x0 + pw * math.log2(p) / 12
    def Y(e):
        return y0 + ph * (1 - e)
    for e in (0, 0.25, 0.5, 0.75, 0.9, 1.0):
        style = 'stroke="#c00" stroke-dasharray="4,3"' if e == 0.9 else 'stroke="#ddd"'
        out.append(f'<line x1="{x0}" y1="{Y(e):.1f}" x2="{x0 + pw}" y2="{Y(e):.1f}" {style}/>')
        out.append(f'<text x="{x0 - 8}" y="{Y(e) + 4:.1f}" text-anchor="end">{e:.0%}</text>')
    for p in xs:
        out.append(f'<line x1="{X(p):.1f}" y1="{y0 + ph}" x2="{X(p):.1f}" y2="{y0 + ph + 5}" stroke="#333"/>')
        out.append(f'<text x="{X(p):.1f}" y="{y0 + ph + 18}" text-anchor="middle">{p}</text>')
    out.append(f'<text x="{x0 + pw / 2}" y="{y0 + ph + 36}" text-anchor="middle">ranks</text>')
    out.append(f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for i, (name, pts) in enumerate(series):
        col = colors[i % len(colors)]
        dash = ' stroke-dasharray="6,4"' if "fixed" in name else ""
        d = " ".join(f"{'M' if j == 0 else 'L'}{X(p):.1f},{Y(min(e, 1.05)):.1f}" for j, (p, e) in enumerate(pts))
        out.append(f'<path d="{d}" fill="none" stroke="{col}" stroke-width="2"{dash}/>')
        for p, e in pts:
            out.append(f'<circle cx="{X(p):.1f}" cy="{Y(min(e, 1.05)):.1f}" r="3" fill="{col}"/>')
        out.append(f'<line x1="{x0 + 10}" y1="{y0 + ph - 70 + 16 * i}" x2="{x0 + 34}" y2="{y0 + ph - 70 + 16 * i}" '
                   f'stroke="{col}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{x0 + 40}" y="{y0 + ph - 66 + 16 * i}">{name}</text>')
    # right: stacked bars of seconds per stage at 1,024 ranks
    bx, by, bw, bh = 540, 40, 380, 300
    title, rows = breakdown
    out.append(f'<text x="{bx}" y="22" font-size="14">{title}</text>')
    tmax = max(sum(v.values()) for _, v in rows) or 1
    parts = [("compute", "#4c78a8"), ("comm", "#f58518"), ("io", "#54a24b"), ("serial", "#e45756")]
    barh = bh / len(rows) * 0.6
    for i, (label, v) in enumerate(rows):
        y = by + i * bh / len(rows) + 6
        out.append(f'<text x="{bx + 110}" y="{y + barh / 2 + 4:.1f}" text-anchor="end">{label}</text>')
        x = bx + 115
        for k, col in parts:
            wdt = (bw - 130) * v[k] / tmax
            if wdt > 0:
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{wdt:.1f}" height="{barh:.1f}" fill="{col}"/>')
            x += wdt
        out.append(f'<text x="{x + 4:.1f}" y="{y + barh / 2 + 4:.1f}">{sum(v.values()):.1f} s</text>')
    for j, (k, col) in enumerate(parts):
        out.append(f'<rect x="{bx + 115 + 70 * j}" y="{by + bh + 10}" width="10" height="10" fill="{col}"/>')
        out.append(f'<text x="{bx + 129 + 70 * j}" y="{by + bh + 19}">{k}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main(argv):
    args = argv[1:]
    opts = {"--svg": None, "--json": None}
    for k in opts:
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    if len(args) != 1:
        sys.exit("usage: scaling_model.py SCALING_DIR [--svg FILE] [--json FILE]")
    folder = args[0]
    c = CLUSTER
    best = read_runs(folder)
    w1 = best[("weak", 1)]
    s1 = json.load(open(os.path.join(folder, w1[1], "summary.json")))
    u1 = s1["input"]["files"]["users.csv"]["loaded"]
    lines_per_customer = s1["sales"]["lines"] / s1["segment"]["customers"]

    # production: configs/default.ini at 250,000 users per rank
    u_prod = 250000
    ku = u_prod / u1
    ks_small, ks_prod = range(2, 7), range(2, 11)
    seg_work = (sum(ks_prod) * 10) / (sum(ks_small) * 3)        # sum of k x n_init (iterations alike)
    seg_calls = (len(ks_prod) * 10) / (len(ks_small) * 3)       # (k, seeding) pairs
    fc_work = (300 * 8) / (60 * 6)                               # rounds x depth
    fc_calls = (300 * 8) / (60 * 6)                              # one histogram Allreduce per level
    hist_bytes = (256 / 64) * ((2 ** 8 - 1) / 8) / ((2 ** 6 - 1) / 6)  # bins x mean nodes per level
    scale = {
        "users": ku,
        "compute": {"ingest": ku, "insights": ku, "segment": ku * seg_work, "forecast": ku * fc_work,
                    "report": 1.0},
        "bytes": {("ingest", "Alltoallv"): ku, ("insights", "Alltoallv"): ku, ("segment", "Alltoallv"): ku,
                  ("forecast", "Alltoallv"): ku, ("segment", "Recv"): ku, ("forecast", "Allreduce"): hist_bytes,
                  ("ingest", "File_write_at_all"): ku, ("segment", "File_write_at_all"): ku,
                  ("forecast", "File_write_at_all"): ku, ("insights", "File_write_at_all"): 1.0},
        "count": {"segment": seg_calls, "forecast": fc_calls},
    }
    scen = {"measured": project(best, folder, c), "production": project(best, folder, c, scale=scale)}
    result = {"cluster": c, "users_per_rank": {"measured": u1, "production": u_prod},
              "production_ratios": {"compute_users": ku, "segment_work": seg_work, "segment_calls": seg_calls,
                                    "forecast_work": fc_work, "forecast_calls": fc_calls,
                                    "histogram_bytes": hist_bytes},
              "projection": {}}
    for name, pr in scen.items():
        for fixed in (False, True):
            label = f"{name}{' + fixes' if fixed else ''}"
            t1 = total(pr[(fixed, 1)])
            print(f"\n-- {label}")
            print(f"\n== {label}: {result['users_per_rank'][name]:,} users per rank ==")
            print(f"{'ranks':>6} " + " ".join(f"{st:>18s}" for st in STAGES) + f" {'total':>8} {'weak eff':>8}")
            rows = {}
            for p in PROJECT:
                row = pr[(fixed, p)]
                cells = []
                for st in STAGES:
                    v = row[st]
                    cells.append(f"{sum(v.values()):7.2f} ({v['comm'] + v['io'] + v['serial']:6.2f})")
                tt = total(row)
                print(f"{p:6d} " + " ".join(f"{x:>18s}" for x in cells) + f" {tt:8.2f} {t1 / tt:8.1%}")
                rows[p] = {"stages": row, "total": tt, "efficiency": t1 / tt}
            result["projection"][label] = rows
    print("\n(per stage: seconds, and in brackets the communication + I/O + serial part)")
    result["contributors_1024"] = {}
    for name, pr in scen.items():
        print(f"\nlargest communication / I/O terms at 1,024 ranks, {name} (baseline design):")
        tops = []
        for st in STAGES:
            for t, (cl, op), n, b in contributors(pr["_sched"].get(st, []), pr["_ref_p"], 1024, c):
                tops.append((t, st, cl, op, n, b))
        tops.sort(reverse=True)
        result["contributors_1024"][name] = [
            {"seconds": t, "stage": st, "class": cl, "call": op, "calls": n, "bytes_rank0_at_ref": b}
            for t, st, cl, op, n, b in tops[:8]]
        for t, st, cl, op, n, b in tops[:8]:
            print(f"  {t:7.3f} s  {st:9s} {cl:4s} {op:18s} {n:6d} calls, {b / 1e6:9.3f} MB at rank 0 "
                  f"({pr['_ref_p']} ranks)")

    customers_per_user = s1["segment"]["customers"] / u1
    mem = memory_model(best, folder, c, [1024], lines_per_customer, customers_per_user)
    result["memory"] = mem
    lg1024 = mem["largest"][1024]
    hours = lg1024["users_per_rank"] / u1 * total(scen["measured"][(False, 1)]) / 3600
    print(f"\nmemory per rank: {mem['fixed_bytes'] / 1e6:.0f} MB + {mem['per_user_bytes_measured'] / 1e3:.2f} kB per user "
          f"(peak RSS of the 1-rank runs at {mem['points'][0][0]:,} and {mem['points'][-1][0]:,} users); "
          f"bottom-up peak {mem['per_user_bytes_bottom_up'] / 1e3:.2f} kB per user (input mapped + 3 x tables); "
          f"the larger is used")
    print(f"allgathered tables at 1,024 ranks: {lg1024['allgather_bytes'] / 1e6:.0f} MB per rank")
    print(f"largest data set on 1,024 ranks x {c['node_mem'] / 1e9:.0f} GB ({c['usable']:.0%} usable): "
          f"{lg1024['users_per_rank']:,.0f} users per rank, {lg1024['users'] / 1e9:.2f} billion users of whom "
          f"{lg1024['customers'] / 1e9:.2f} billion customers ({customers_per_user:.0%} buy), "
          f"{lg1024['order_lines'] / 1e9:.1f} billion order lines (at the measured rates, about {hours:.0f} h "
          f"of compute per rank with configs/small.ini settings)")
    result["memory"]["hours_small_settings"] = hours

    print("\nmemory per rank (fixed + per-user x users per rank + allgathered tables growing with P):")
    per_p = {}
    for name, u in (("measured", u1), ("production", u_prod)):
        cells = []
        for p in PROJECT:
            grow = mem["largest"][1024]["allgather_bytes"] / 1024 * p
            m = mem["fixed_bytes"] + mem["per_user_bytes"] * u + grow
            per_p.setdefault(name, {})[p] = m
            cells.append(f"{p}: {m / 1e9:.2f} GB")
        print(f"  {name:10s} " + ", ".join(cells))
    result["memory"]["per_rank"] = per_p

    if opts["--svg"]:
        series = []
        for name in ("measured", "production"):
            for fixed in (False, True):
                label = f"{name}{' + fixes' if fixed else ''}"
                series.append((label, [(p, r["efficiency"]) for p, r in result["projection"][label].items()]))
        row = scen["measured"][(False, 1024)]
        rowf = scen["measured"][(True, 1024)]
        bars = []
        for st in STAGES:
            if st != "report":
                bars += [(st, row[st]), (f"{st} + fixes", rowf[st])]
        svg_chart(series, (f"Measured settings, 1,024 ranks: seconds per stage", bars), opts["--svg"])
        print(f"chart: {opts['--svg']}")
    if opts["--json"]:
        def clean(o):
            if isinstance(o, dict):
                return {str(k): clean(v) for k, v in o.items()}
            if isinstance(o, (list, tuple)):
                return [clean(v) for v in o]
            return o
        with open(opts["--json"], "w") as f:
            json.dump(clean(result), f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
