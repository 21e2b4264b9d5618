#!/usr/bin/env python3
"""CPU per check: where a running mamori spends its CPU on N http checks.

One nginx on 127.0.0.1 (`return 200`), `mamori run` with N http checks every
second (as bench/footprint.py), and after a warm-up one measured window:
- CPU per check, user and kernel apart, from /proc/PID/stat (utime, stime);
- CPU per check of each thread from /proc/PID/task/*/schedstat, and their
  sum ("threads": finer than the clock ticks of /proc/PID/stat);
- context switches per check (/proc/PID/task/*/status);
- with --strace, in a second window: system calls per check (`strace -f -c`),
  the commonest first. strace slows what it traces: its window's CPU figures
  are not reported.
"Per check" divides by the requests nginx logged in the window.
Every process started here is stopped on exit.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_checks import CLK_TCK, Children, Nginx, loadavg  # noqa: E402
from footprint import write_mamori_config  # noqa: E402


def stat_times(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def threads(pid):
    """{tid: (name, ns on CPU)}; mamori does not name its threads: they are told
    apart by thread id (the lowest is the main thread)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[tid] = (name, int(f.read().split()[0]))
        except OSError:
            pass
    return out


def context_switches(pid):
    """Voluntary + involuntary context switches of all of pid's threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_window(pid, ng, window):
    off, t0 = ng.offset(), time.time()
    u0, s0 = stat_times(pid)
    th0 = threads(pid)
    cs0 = context_switches(pid)
    time.sleep(window)
    cs1 = context_switches(pid)
    u1, s1 = stat_times(pid)
    th1 = threads(pid)
    t1 = time.time()
    n = max(1, ng.count(off, t0, t1)[0])
    per = {}
    for tid, (name, ns) in th1.items():
        d = ns - th0.get(tid, (name, 0))[1]
        per[f"{name}/{tid}"] = d
    print(f"  window {t1 - t0:.1f} s, {n} requests, load {loadavg()}, threads {len(th1)}")
    print(f"  CPU per check: user {(u1 - u0) / n * 1e6:.0f} us, "
          f"kernel {(s1 - s0) / n * 1e6:.0f} us, total {(u1 - u0 + s1 - s0) / n * 1e6:.0f} us; "
          f"threads {sum(per.values()) / n / 1e3:.0f} us; {(cs1 - cs0) / n:.1f} context switches")
    for key, ns in sorted(per.items(), key=lambda kv: -kv[1]):
        if ns >= 1000 * n:  # 1 us per check
            print(f"    thread {key:24} {ns / n / 1e3:7.0f} us/check")


def strace_window(pid, ng, window):
    off, t0 = ng.offset(), time.time()
    out = subprocess.run(["timeout", "-s", "INT", str(window), "strace", "-f", "-c", "-p",
                          str(pid)], capture_output=True, text=True).stderr
    n = max(1, ng.count(off, t0, time.time())[0])
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            rows.append((int(parts[3]), parts[-1]))
    total = sum(c for c, _ in rows)
    print(f"  strace window: {n} requests, {total / n:.1f} system calls per check")
    for calls, name in sorted(rows, reverse=True)[:10]:
        print(f"    {name:18} {calls / n:6.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mamori", required=True)
    ap.add_argument("--checks", type=int, default=50)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--strace", action="store_true")
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="mamori-cpu-")
    os.chmod(root, 0o755)
    kids = Children()
    try:
        ng = Nginx(kids, root, "1")
        d = os.path.join(root, "mamori")
        os.makedirs(d)
        cfg = write_mamori_config(d, a.checks, ng.url)
        p = kids.start([a.mamori, "run", "-c", cfg, "--data-dir", os.path.join(d, "data")],
                       os.path.join(d, "output.log"))
        time.sleep(a.warmup)
        if p.poll() is not None:
            raise SystemExit(f"mamori exited early: see {d}")
        print(f"{a.mamori}, {a.checks} checks")
        cpu_window(p.pid, ng, a.window)
        if a.strace:
            strace_window(p.pid, ng, a.window)
    finally:
        kids.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
