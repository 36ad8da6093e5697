#!/usr/bin/python3
"""scaling_collect.py: one scaling run's per-stage compute, communication
and I/O seconds, appended as rows of a CSV (bench/scaling.sh calls it; the
Slurm scaling jobs call it without a profile folder).

usage: scaling_collect.py SUMMARY_JSON PROF_DIR|- MODE CSV [--run ID] [--note TEXT]

SUMMARY_JSON  the run's summary.json (stage wall times, counts)
PROF_DIR      rank-<r>.txt files written by bench/scaling_mpiprof.c, or "-"
              when the run was not profiled (then only wall times are known)
MODE          a label: strong, weak, ...
--run ID      names the run (repetitions of one setting differ here)

How the split is made: main.c runs the stages one after the other (ingest,
insights, segment, forecast, report) and summary.json holds each one's wall
time, so stage k of a rank spans [init + sum of the earlier stages, + its
own]; every MPI call the profiler recorded falls in the stage that holds its
midpoint. Per stage: comm = collectives + point-to-point seconds and io =
MPI-IO + HDF5's own MPI calls, each the mean over ranks; compute = wall -
comm - io. Time inside a collective includes waiting for slower ranks, so
load imbalance (and oversubscription) shows as communication. The few
milliseconds between MPI_Init and the first stage are ignored.
"""
import csv
import glob
import json
import os
import socket
import sys
import time

STAGES = ["generate", "ingest", "insights", "segment", "forecast", "report"]
FIELDS = ["date", "host", "cores", "run", "mode", "ranks", "threads", "users", "order_lines", "customers", "demand_rows",
          "stage", "wall_s", "compute_s", "comm_s", "io_s", "comm_max_s", "mpi_calls", "note"]


def read_prof(folder):
    ranks = []
    for path in sorted(glob.glob(os.path.join(folder, "rank-*.txt"))):
        init, events = None, []
        with open(path) as f:
            for line in f:
                parts = line.split()
                if parts[0] == "init":
                    init = float(parts[1])
                elif parts[0] in ("coll", "p2p", "io"):
                    events.append((parts[0], float(parts[1]), float(parts[2])))
        if init is None:
            sys.exit(f"scaling_collect: {path} has no init line")
        ranks.append((init, events))
    if not ranks:
        sys.exit(f"scaling_collect: no rank-*.txt in {folder}: was the run profiled (LD_PRELOAD)?")
    return ranks


def split(summary, ranks):
    secs = summary["seconds"]
    stages = [s for s in STAGES if s in secs]
    out = {s: {"comm": [], "io": [], "calls": 0} for s in stages}
    for init, events in ranks:
        bounds, t = [], init
        for s in stages:
            bounds.append((s, t, t + secs[s]))
            t += secs[s]
        acc = {s: {"comm": 0.0, "io": 0.0} for s in stages}
        for cls, t0, t1 in events:
            mid = 0.5 * (t0 + t1)
            stage = stages[-1]
            for s, a, b in bounds:
                if mid < b:
                    stage = s
                    break
            acc[stage]["io" if cls == "io" else "comm"] += t1 - t0
            out[stage]["calls"] += 1
        for s in stages:
            out[s]["comm"].append(acc[s]["comm"])
            out[s]["io"].append(acc[s]["io"])
    return stages, out


def main(argv):
    opts = {"--note": "", "--run": ""}
    for k in opts:
        if k in argv:
            i = argv.index(k)
            opts[k] = argv[i + 1]
            del argv[i:i + 2]
    note, run_id = opts["--note"], opts["--run"]
    if len(argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    summary_path, prof, mode, out_csv = argv[1:]
    with open(summary_path) as f:
        s = json.load(f)
    secs = s["seconds"]
    files = s.get("input", {}).get("files", {})
    base = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname(), "cores": os.cpu_count(),
        "run": run_id,
        "mode": mode, "ranks": s["ranks"], "threads": s["threads"],
        "users": files.get("users.csv", {}).get("loaded", ""),
        "order_lines": s.get("sales", {}).get("lines", ""),
        "customers": s.get("segment", {}).get("customers", ""),
        "demand_rows": s.get("forecast", {}).get("rows", ""), "note": note,
    }
    rows = []
    if prof != "-":
        stages, split_ = split(s, read_prof(prof))
        for st in stages:
            comm = sum(split_[st]["comm"]) / len(split_[st]["comm"])
            io = sum(split_[st]["io"]) / len(split_[st]["io"])
            rows.append(dict(base, stage=st, wall_s=f"{secs[st]:.3f}", compute_s=f"{max(secs[st] - comm - io, 0):.3f}",
                             comm_s=f"{comm:.3f}", io_s=f"{io:.3f}", comm_max_s=f"{max(split_[st]['comm']):.3f}",
                             mpi_calls=split_[st]["calls"]))
    else:
        for st in STAGES:
            if st in secs:
                rows.append(dict(base, stage=st, wall_s=f"{secs[st]:.3f}", compute_s="", comm_s="", io_s="",
                                 comm_max_s="", mpi_calls=""))
    rows.append(dict(base, stage="total", wall_s=f"{secs['total']:.3f}", compute_s="", comm_s="", io_s="",
                     comm_max_s="", mpi_calls=""))
    new = not os.path.exists(out_csv) or os.path.getsize(out_csv) == 0
    with open(out_csv, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerows(rows)
    for r in rows:
        print(f"  {mode:6s} {r['ranks']} ranks {r['stage']:9s} wall {r['wall_s']:>8s}  compute {r['compute_s']:>8s}  "
              f"comm {r['comm_s']:>8s}  io {r['io_s']:>8s}")


if __name__ == "__main__":
    main(list(sys.argv))
