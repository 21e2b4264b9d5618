#!/usr/bin/env python3
"""Footprint: mamori and Monit side by side, the same N HTTP checks every
second against one nginx on 127.0.0.1, in one run.

For each N (50, 1,000 and 10,000 by default) and each repeat, Monit and then
mamori (the order alternates between repeats, so a change in the machine's
load hits both) are started, left alone for a fixed window counted from their
exec (start-up is part of what a user pays), and then read from /proc before
they are stopped:
- VmHWM (peak RSS), RssAnon and RssFile from /proc/PID/status;
- CPU seconds (utime + stime, children included) from /proc/PID/stat;
- the requests nginx served for them in that window (its access log), so a
  contender that falls behind its schedule is seen.
The report gives medians of the repeats and the ratios mamori / Monit (<= 1.0
means mamori is at most as heavy).

Monit: `set daemon 1`, N `check host` entries with `if failed port P protocol
http request /`. mamori: N http checks with `interval: 1s, timeout: 1s`.

Normally started through bench/footprint.sh, which builds mamori first.
Every process started here is stopped on exit; nothing listens beyond
loopback (the run aborts if a contender does).
"""

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_checks import (CLK_TCK, Children, Nginx, check_loopback_only, loadavg,  # noqa: E402
                         proc_status, write_monitrc)


def cpu_seconds(pid):
    """utime + stime + cutime + cstime of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def write_mamori_config(d, n, url):
    cfg = os.path.join(d, "mamori.yaml")
    with open(cfg, "w") as f:
        f.write(f"data_dir: {d}/data\nchecks:\n")
        for i in range(n):
            f.write(f'  - {{name: c{i}, type: http, url: "{url}", interval: 1s, timeout: 1s}}\n')
    return cfg


def run_one(ctx, who, n, rep):
    a, ng, kids = ctx["args"], ctx["nginx"], ctx["children"]
    d = os.path.join(ctx["root"], f"{who}-{n}-{rep}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    if who == "monit":
        argv = ["monit", "-I", "-c", write_monitrc(d, n, ng.port)]
    else:
        cfg = write_mamori_config(d, n, ng.url)
        argv = [ctx["mamori"], "run", "-c", cfg, "--data-dir", os.path.join(d, "data")]
    off = ng.offset()
    load = loadavg()
    t0 = time.time()
    p = kids.start(argv, os.path.join(d, "output.log"))
    # Loopback only: looked at once the contender had time to open its listeners.
    time.sleep(min(2.0, a.window / 2))
    if p.poll() is not None:
        raise SystemExit(f"{who} exited early (status {p.returncode}): see {d}")
    check_loopback_only([p.pid], who)
    time.sleep(max(0.0, t0 + a.window - time.time()))
    t1 = time.time()
    m = {"who": who, "n": n, "rep": rep, "load": load, "secs": t1 - t0,
         "cpu_s": cpu_seconds(p.pid)}
    for key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
        m[key] = (proc_status(p.pid, key) or 0) / 1024.0  # MiB
    kids.stop(p, grace=30.0)
    m["requests"] = ng.count(off, t0, t1)[0]
    print(f"  {who:6} n={n:<6} rep {rep + 1}: VmHWM {m['VmHWM']:.1f} MiB "
          f"(anon {m['RssAnon']:.1f}, file {m['RssFile']:.1f}), CPU {m['cpu_s']:.2f} s, "
          f"{m['requests']} requests, load {load}", file=sys.stderr, flush=True)
    return m


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def report(results, args, out):
    def line(s=""):
        print(s, file=out)
    line(f"Window {args.window:.0f} s from exec, {args.repeats} repeats, medians. "
         f"Load average at start {results['load_start']}, at end {loadavg()}.")
    line()
    line("| checks | contender | VmHWM (MiB) | RssAnon (MiB) | RssFile (MiB) | CPU (s) "
         "| requests served |")
    line("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    ratios = []
    for n in args.checks:
        for who in ("monit", "mamori"):
            runs = results[(who, n)]
            line(f"| {n:,} | {who} | {med(runs, 'VmHWM'):.1f} | {med(runs, 'RssAnon'):.1f} "
                 f"| {med(runs, 'RssFile'):.1f} | {med(runs, 'cpu_s'):.2f} "
                 f"| {med(runs, 'requests'):.0f} |")
        mo, ma = results[("monit", n)], results[("mamori", n)]
        ratios.append((n, med(ma, "VmHWM") / med(mo, "VmHWM"),
                       med(ma, "cpu_s") / max(med(mo, "cpu_s"), 1.0 / CLK_TCK),
                       (med(ma, "cpu_s") / max(med(ma, "requests"), 1))
                       / (med(mo, "cpu_s") / max(med(mo, "requests"), 1))))
    line()
    line("| checks | peak RSS mamori/Monit | CPU s mamori/Monit | CPU per request served "
         "mamori/Monit |")
    line("| ---: | ---: | ---: | ---: |")
    for n, r_rss, r_cpu, r_per in ratios:
        line(f"| {n:,} | {r_rss:.2f} | {r_cpu:.2f} | {r_per:.2f} |")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mamori", required=True, help="the mamori binary")
    ap.add_argument("--checks", type=int, nargs="+", default=[50, 1000, 10000])
    ap.add_argument("--window", type=float, default=30.0, help="seconds from exec to reading")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nginx-workers", default="1")
    args = ap.parse_args()
    for tool in ("nginx", "monit", "ss"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found; run scripts/bootstrap.sh --bench")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    children = Children()
    root = tempfile.mkdtemp(prefix="mamori-footprint-")
    os.chmod(root, 0o755)  # nginx workers run unprivileged when started as root
    try:
        ctx = {"args": args, "children": children, "root": root,
               "mamori": os.path.abspath(args.mamori),
               "nginx": Nginx(children, root, args.nginx_workers)}
        results = {"load_start": loadavg()}
        for n in args.checks:
            for rep in range(args.repeats):
                order = ("monit", "mamori") if rep % 2 == 0 else ("mamori", "monit")
                for who in order:
                    results.setdefault((who, n), []).append(run_one(ctx, who, n, rep))
        ratios = report(results, args, sys.stdout)
        worst = max(max(r_rss, r_cpu) for _, r_rss, r_cpu, _ in ratios)
        print(f"\nworst ratio {worst:.2f}: "
              f"{'at most Monit' if worst <= 1.0 else 'heavier than Monit'}", file=sys.stderr)
    finally:
        children.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
