#!/usr/bin/env python3
"""Idle footprint of `mamori run`: what the daemon costs before any check
needs a library of its own.

Starts BINARY `run` (the embedded zero-config default, or `-c CONFIG`) with a
temporary data dir and a loopback listener, leaves it alone for --window
seconds counted from exec, then reads VmHWM, VmRSS, RssAnon and RssFile from
/proc/PID/status and the resident KiB of chosen libraries from
/proc/PID/smaps, and stops it. Medians of --repeats runs; one line per
binary, so a before and an after binary are measured side by side in one run
(alternating, so a change in the machine's load hits both).

  bench/idle_footprint.py /tmp/mamori-before build/mamori
  bench/idle_footprint.py --config file-checks.yaml build/mamori
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

LIBS = ("libcrypto", "libssl", "libcurl", "libgnutls", "libp11-kit", "librtmp", "libldap")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = int(rest.split()[0])
    return out


def library_rss(pid):
    """Resident KiB per library in LIBS (all its mappings)."""
    out = {lib: 0 for lib in LIBS}
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
                path = fields[5] if len(fields) > 5 else ""
                base = os.path.basename(path)
                current = next((lib for lib in LIBS if base.startswith(lib + ".")
                                or base.startswith(lib + "-")), None)
            elif fields[0] == "Rss:" and current:
                out[current] += int(fields[1])
    return out


def run_one(binary, config, window):
    d = tempfile.mkdtemp(prefix="mamori-idle-")
    try:
        argv = [binary, "run", "--data-dir", os.path.join(d, "data"),
                "--listen", f"127.0.0.1:{free_port()}"]
        if config:
            argv += ["-c", config]
        with open(os.path.join(d, "log"), "w") as log:
            t0 = time.time()
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(max(0.0, t0 + window - time.time()))
            if p.poll() is not None:
                raise SystemExit(f"{binary} exited early: see {d}/log")
            m = status(p.pid)
            m.update(library_rss(p.pid))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return m
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--config", help="a configuration file instead of the zero-config default")
    ap.add_argument("--window", type=float, default=10.0, help="seconds from exec (default 10)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    runs = {b: [] for b in a.binaries}
    for rep in range(a.repeats):
        order = a.binaries if rep % 2 == 0 else list(reversed(a.binaries))
        for b in order:
            runs[b].append(run_one(b, a.config, a.window))
    keys = ("VmHWM", "VmRSS", "RssAnon", "RssFile") + LIBS
    print(f"window {a.window:g} s from exec, medians of {a.repeats}, KiB")
    print("| binary | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for b in a.binaries:
        cells = [f"{statistics.median(r[k] for r in runs[b]):,.0f}" for k in keys]
        print(f"| {b} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
