#!/usr/bin/env python3
"""Writes cmake/mamori.order: the functions of mamori's own code that a
running daemon executes, for the linker to lay out together at the start of
.text (CMakeLists.txt, MAMORI_TEXT_ORDER; docs/ARCHITECTURE.md, "Footprint").

Why: the kernel maps a file's pages 64 KiB at a time around each page a
process touches ("fault-around"), so a daemon whose few hundred kilobytes of
code in use are spread over a 5 MiB .text has most of that .text resident.
Packed together, they take a fraction of it.

How: `mamori run` under valgrind's callgrind (which lists every function that
ran at least once, unlike sampling), twice, for --seconds each:
- with --checks http checks every second against an nginx on 127.0.0.1 (the
  footprint benchmark's workload: start-up, the check loop, the store, the
  alerts, the HTTP client and the API server);
- with no configuration at all (the embedded default: the host's own checks).
Their mangled names are written in three groups, each sorted: those both
runs used (start-up, the loop, the store), then those only the http run used,
then those only the default used, so a configuration of either kind finds
its code in one stretch. A stale file costs only
memory: functions it names that no longer exist are ignored by the linker,
and new ones are placed after it. Re-run after large changes to the daemon:

    python3 scripts/text_order.py --mamori build/mamori

Needs valgrind and nginx (scripts/bootstrap.sh --bench installs both).
Everything started here is stopped on exit; nothing listens beyond loopback.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from http_checks import Children, Nginx  # noqa: E402
from footprint import write_mamori_config  # noqa: E402


def executed_functions(callgrind_out, binary):
    """The mangled names of the functions of `binary` in a callgrind profile."""
    names, current = set(), None
    with open(callgrind_out, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                current = line[3:].strip()
            elif line.startswith("fn=") and current == binary:
                name = line[3:].strip()
                # Not addresses, and not callgrind's names for recursion
                # levels ("f'2"), which are the same function.
                if not name.startswith("0x") and " " not in name and "'" not in name:
                    names.add(name)
    return names


def profile(binary, argv, seconds, out, log):
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
           "--demangle=no", "--compress-strings=no", "--compress-pos=no", binary] + argv
    with open(log, "w") as logf:
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        try:
            time.sleep(seconds)
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    if not os.path.exists(out):
        raise SystemExit(f"callgrind wrote no profile; see {log}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mamori", required=True, help="the mamori binary (a Release build)")
    ap.add_argument("--checks", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=45.0, help="per run (valgrind is slow)")
    ap.add_argument("--output", default=os.path.join(HERE, "..", "cmake", "mamori.order"))
    args = ap.parse_args()
    for tool in ("valgrind", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found; run scripts/bootstrap.sh --bench")
    binary = os.path.realpath(args.mamori)
    children = Children()
    root = tempfile.mkdtemp(prefix="mamori-text-order-")
    os.chmod(root, 0o755)  # nginx workers run unprivileged when started as root
    try:
        nginx = Nginx(children, root, "1")
        cfg = write_mamori_config(root, args.checks, nginx.url)
        found = {}
        runs = {"http": ["run", "-c", cfg, "--data-dir", os.path.join(root, "data-http")],
                "default": ["run", "--data-dir", os.path.join(root, "data-default")]}
        for label, argv in runs.items():
            out = os.path.join(root, f"callgrind-{label}.out")
            profile(binary, argv, args.seconds, out, os.path.join(root, f"{label}.log"))
            found[label] = executed_functions(out, binary)
            print(f"{label}: {len(found[label])} functions", file=sys.stderr)
    finally:
        children.stop_all()
    http, default = found["http"], found["default"]
    if min(len(http), len(default)) < 200:
        raise SystemExit(f"only {len(http)} and {len(default)} functions ran: "
                         f"is {binary} a daemon that started?")
    groups = [http & default, http - default, default - http]
    with open(args.output, "w") as f:
        for group in groups:
            f.write("".join(n + "\n" for n in sorted(group)))
    print(f"{sum(map(len, groups))} functions written to {args.output} "
          f"({', '.join(str(len(g)) for g in groups)})", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
