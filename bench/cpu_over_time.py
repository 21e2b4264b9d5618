#!/usr/bin/env python3
"""CPU over time: the CPU seconds one contender (mamori or Monit) has used at
fixed times after its exec, doing N http checks every second against one
nginx on 127.0.0.1 (the footprint benchmark's workload), so start-up and the
steady state can be told apart. Prints one line per run.

    python3 bench/cpu_over_time.py --checks 50 --contender build/mamori
    python3 bench/cpu_over_time.py --checks 50 --contender monit

Every process started here is stopped on exit.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_checks import Children, Nginx, write_monitrc  # noqa: E402
from footprint import cpu_seconds, write_mamori_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contender", required=True, help="'monit' or a mamori binary")
    ap.add_argument("--checks", type=int, default=50)
    ap.add_argument("--at", type=float, nargs="+", default=[0.5, 1, 2, 5, 10, 15],
                    help="seconds after exec at which the CPU is read")
    args = ap.parse_args()
    children = Children()
    root = tempfile.mkdtemp(prefix="mamori-cpu-")
    os.chmod(root, 0o755)  # nginx workers run unprivileged when started as root
    try:
        nginx = Nginx(children, root, "1")
        if args.contender == "monit":
            argv = ["monit", "-I", "-c", write_monitrc(root, args.checks, nginx.port)]
        else:
            cfg = write_mamori_config(root, args.checks, nginx.url)
            argv = [os.path.abspath(args.contender), "run", "-c", cfg,
                    "--data-dir", os.path.join(root, "data")]
        t0 = time.time()
        p = children.start(argv, os.path.join(root, "output.log"))
        readings = []
        for t in sorted(args.at):
            time.sleep(max(0.0, t0 + t - time.time()))
            readings.append(f"{t:g}s:{cpu_seconds(p.pid):.2f}")
        print(f"{args.contender} {args.checks} checks: CPU s at " + " ".join(readings))
    finally:
        children.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
