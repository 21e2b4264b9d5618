#!/usr/bin/env python3
"""HTTP-check throughput and footprint: mamori against wrk, Monit and
blackbox_exporter, one run, one local nginx, one yardstick.

Every contender checks the same URL on one nginx bound to 127.0.0.1. Requests
are counted from nginx's access log (each line carries $msec, so a line counts
when the request was served inside the measured window, whatever the log
buffering), never from the contender's own figures. nginx closes every
connection after its response (keepalive_timeout 0), so each check is a fresh
TCP connection for every contender alike.

Scenario A: throughput. wrk (the ceiling, Connection: close), Monit (N `check
host` entries, `set daemon 1`), blackbox_exporter (/probe driven by wrk at a
fixed concurrency) and mamori (N http checks at a 1 s interval; its own stats
lines give runs/s and lateness against schedule).

Scenario B: footprint. mamori and Monit with a few checks every second: peak
RSS (VmHWM) and CPU time per check served (CPU from per-thread schedstat, in
nanoseconds, over the window).

Children run in their own process groups and are stopped (TERM, then KILL) on
any exit, including Ctrl-C. Only loopback listeners are allowed: the run
aborts if a contender listens anywhere else.

Normally started through bench/http_checks.sh, which installs the peers and
builds mamori first.
"""

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- processes

class Children:
    """Every process started here; all are stopped on exit."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log_path, **kw):
        log = open(log_path, "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        log.close()
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=5.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        else:
            # The leader is gone; make sure nothing of its group lingers.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            self.stop(p, grace=3.0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def descendants(pid):
    """pid and all its descendants (nginx master + workers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def thread_cpu_ns(pids):
    """{(pid, tid): ns on CPU} from /proc/PID/task/TID/schedstat."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    out[(pid, tid)] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return out


def cpu_delta_s(before, after):
    """CPU seconds spent between two thread_cpu_ns snapshots (threads born in
    between count from zero; threads that died in between are lost, which
    none of the contenders does in steady state)."""
    return sum(v - before.get(k, 0) for k, v in after.items()) / 1e9


def stat_cpu_s(pids):
    """utime+stime of whole processes (clock ticks; a cross-check of the
    schedstat figures, coarser but counting threads that already exited)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])  # kB
    except OSError:
        pass
    return None


def system_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def check_loopback_only(pids, label):
    """Aborts if any of pids listens on an address other than 127.0.0.1."""
    out = subprocess.run(["ss", "-Hltunp"], capture_output=True, text=True).stdout
    pidset = {str(p) for p in pids}
    for line in out.splitlines():
        owners = set(re.findall(r"pid=(\d+)", line))
        if not owners & pidset:
            continue
        local = line.split()[4]
        if not local.startswith("127.0.0.1:"):
            raise SystemExit(f"{label} listens on {local}, beyond loopback; aborting")


# ---------------------------------------------------------------- nginx

NGINX_CONF = """worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
http {{
  log_format bench '$msec $status';
  access_log {d}/logs/access.log bench buffer=256k flush=500ms;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  keepalive_timeout 0;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    default_type text/plain;
    location = / {{ return 200 "hello from nginx\\n"; }}
  }}
}}
"""


class Nginx:
    def __init__(self, children, root, workers):
        self.dir = os.path.join(root, "nginx")
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.port = free_port()
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(d=self.dir, port=self.port, workers=workers))
        self.log = os.path.join(self.dir, "logs", "access.log")
        self.proc = children.start(
            ["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
             "-g", "daemon off;"], os.path.join(self.dir, "stderr.log"))
        if not wait_port(self.port):
            raise SystemExit("nginx did not start: see " + self.dir)
        self.url = f"http://127.0.0.1:{self.port}/"
        check_loopback_only(self.pids(), "nginx")

    def pids(self):
        return descendants(self.proc.pid)

    def offset(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def count(self, offset, t0, t1):
        """(requests served in [t0, t1), non-200 among them, per-second counts)."""
        time.sleep(1.2)  # the log buffer is flushed every 500 ms
        bad = 0
        stamps = []
        with open(self.log, "rb") as f:
            f.seek(offset)
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                ts = float(parts[0])
                if t0 <= ts < t1:
                    stamps.append(ts)
                    if parts[1] != b"200":
                        bad += 1
        stamps.sort()
        per_sec = [0] * int(t1 - t0)
        for ts in stamps:
            if int(ts - t0) < len(per_sec):
                per_sec[int(ts - t0)] += 1
        # Time spent checking: gaps of 100 ms or more between two requests
        # are idle time (Monit sleeps between its cycles).
        busy = sum(b - a for a, b in zip(stamps, stamps[1:]) if b - a < 0.1)
        return len(stamps), bad, per_sec, busy


# ---------------------------------------------------------------- measuring

def measure(ctx, label, proc_pids, window, extra_pids=()):
    """Measures one window starting now. proc_pids: callable -> the
    contender's pids; extra_pids: callable -> a driver's pids (or ())."""
    ng = ctx["nginx"]
    pids0 = proc_pids()
    check_loopback_only(pids0, label)
    drv = extra_pids() if extra_pids else []
    ngp = ng.pids()
    c0, n0, d0 = thread_cpu_ns(pids0), thread_cpu_ns(ngp), thread_cpu_ns(drv)
    s0 = stat_cpu_s(pids0)
    b0, tot0 = system_busy()
    load = loadavg()
    t0 = time.time()
    time.sleep(window)
    t1 = time.time()
    pids1 = proc_pids()
    c1, n1, d1 = thread_cpu_ns(pids1), thread_cpu_ns(ngp), thread_cpu_ns(drv)
    s1 = stat_cpu_s(pids1)
    b1, tot1 = system_busy()
    hwm = sum(proc_status(p, "VmHWM") or 0 for p in pids1)
    rss = sum(proc_status(p, "VmRSS") or 0 for p in pids1)
    anon = sum(proc_status(p, "RssAnon") or 0 for p in pids1)
    return {
        "t0": t0, "t1": t1, "secs": t1 - t0, "load": load,
        "cpu_s": cpu_delta_s(c0, c1), "cpu_ticks_s": s1 - s0, "nginx_cpu_s": cpu_delta_s(n0, n1),
        "driver_cpu_s": cpu_delta_s(d0, d1),
        "system_busy_cores": (b1 - b0) / CLK_TCK / (t1 - t0),
        "vmhwm_kb": hwm, "vmrss_kb": rss, "rss_anon_kb": anon,
    }


def finish(ctx, m, offset):
    n, bad, secs, busy = ctx["nginx"].count(offset, m["t0"], m["t1"])
    m["requests"] = n
    m["busy_s"] = busy
    m["busy_rate"] = n / busy if busy > 0 else None
    m["non_200"] = bad
    m["rate"] = n / m["secs"]
    m["per_sec"] = secs
    m["cpu_ms_per_check"] = 1000 * m["cpu_s"] / n if n else None
    m["cores"] = m["cpu_s"] / m["secs"]
    m["nginx_cores"] = m["nginx_cpu_s"] / m["secs"]
    m["driver_cores"] = m["driver_cpu_s"] / m["secs"]
    other = m["system_busy_cores"] - m["cores"] - m["nginx_cores"] - m["driver_cores"]
    m["other_cores"] = max(0.0, other)
    return m


# ---------------------------------------------------------------- contenders

def run_wrk(ctx):
    a = ctx["args"]
    d = os.path.join(ctx["root"], "wrk")
    os.makedirs(d, exist_ok=True)
    off = ctx["nginx"].offset()
    dur = int(a.warmup + a.window + 3)  # wrk wants whole seconds
    p = ctx["children"].start(
        ["wrk", "-t1", f"-c{a.wrk_conns}", f"-d{dur}s", "-H", "Connection: close",
         ctx["nginx"].url], os.path.join(d, "wrk.log"))
    time.sleep(a.warmup)
    m = measure(ctx, "wrk", lambda: [p.pid], a.window)
    ctx["children"].stop(p)
    return finish(ctx, m, off)


def write_monitrc(d, n, url_port):
    rc = os.path.join(d, "monitrc")
    with open(rc, "w") as f:
        f.write(f"set daemon 1\nset logfile {d}/monit.log\nset pidfile {d}/monit.pid\n"
                f"set idfile {d}/monit.id\nset statefile {d}/monit.state\n")
        for i in range(n):
            f.write(f"check host h{i} with address 127.0.0.1\n"
                    f"  if failed port {url_port} protocol http request / then alert\n")
    os.chmod(rc, 0o600)
    return rc


def run_monit(ctx, n, tag):
    a = ctx["args"]
    d = os.path.join(ctx["root"], f"monit-{tag}-{n}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rc = write_monitrc(d, n, ctx["nginx"].port)
    off = ctx["nginx"].offset()
    p = ctx["children"].start(["monit", "-I", "-c", rc], os.path.join(d, "stdout.log"))
    time.sleep(a.warmup)
    if p.poll() is not None:
        raise SystemExit(f"monit exited early: see {d}")
    m = measure(ctx, "monit", lambda: [p.pid], a.window)
    ctx["children"].stop(p)
    m = finish(ctx, m, off)
    with open(os.path.join(d, "monit.log"), errors="replace") as f:
        m["monit_failures_logged"] = sum(1 for line in f if "failed" in line)
    return m


BLACKBOX_CONF = """modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
"""


def run_blackbox(ctx):
    a = ctx["args"]
    d = os.path.join(ctx["root"], "blackbox")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "blackbox.yml")
    with open(conf, "w") as f:
        f.write(BLACKBOX_CONF)
    port = free_port()
    p = ctx["children"].start(
        [ctx["blackbox"], f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"], os.path.join(d, "blackbox.log"))
    if not wait_port(port):
        raise SystemExit("blackbox_exporter did not start: see " + d)
    probe = (f"http://127.0.0.1:{port}/probe?target={ctx['nginx'].url}&module=http_2xx")
    body = urllib.request.urlopen(probe, timeout=10).read().decode()
    if "probe_success 1" not in body:
        raise SystemExit("blackbox_exporter probe did not succeed:\n" + body)
    off = ctx["nginx"].offset()
    dur = int(a.warmup + a.window + 3)  # wrk wants whole seconds
    w = ctx["children"].start(["wrk", "-t1", f"-c{a.blackbox_conns}", f"-d{dur}s", probe],
                              os.path.join(d, "wrk.log"))
    time.sleep(a.warmup)
    m = measure(ctx, "blackbox_exporter", lambda: [p.pid], a.window, lambda: [w.pid])
    ctx["children"].stop(w)
    ctx["children"].stop(p)
    return finish(ctx, m, off)


STATS_RE = re.compile(
    r"^(\S+) info stats: (\d+) checks, (\d+) runs in (\d+)s \((\d+)/s\), lateness p50 (\d+)ms "
    r"p99 (\d+)ms max (\d+)ms, (\d+) skipped \(still running\), (\d+) observations dropped")
STOP_RE = re.compile(r"stopped after ([\d.]+)s: (\d+) runs \((\d+)/s\), lateness p50 ([\d.]+)ms "
                     r"p99 ([\d.]+)ms max ([\d.]+)ms, (\d+) skipped")


def run_mamori(ctx, n, tag):
    a = ctx["args"]
    # At least two whole stats windows must fit in the measured window.
    stats_interval = max(1, min(5, int(a.window // 3)))
    d = os.path.join(ctx["root"], f"mamori-{tag}-{n}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cfg = os.path.join(d, "mamori.yaml")
    with open(cfg, "w") as f:
        f.write(f"data_dir: {d}/data\nchecks:\n")
        for i in range(n):
            f.write(f'  - {{name: c{i}, type: http, url: "{ctx["nginx"].url}", '
                    f"interval: 1s, timeout: {a.mamori_timeout}}}\n")
    log = os.path.join(d, "mamori.log")
    off = ctx["nginx"].offset()
    p = ctx["children"].start(
        [ctx["mamori"], "run", "-c", cfg, "--data-dir", os.path.join(d, "data"),
         "--stats-interval", f"{stats_interval}s"], log)
    # Start-up (config, store) is not part of the window: wait for "running".
    end = time.time() + 120
    while time.time() < end and p.poll() is None:
        with open(log, errors="replace") as f:
            if " running " in f.read():
                break
        time.sleep(0.2)
    else:
        raise SystemExit(f"mamori did not start: see {log}")
    time.sleep(a.warmup)
    m = measure(ctx, "mamori", lambda: [p.pid], a.window)
    ctx["children"].stop(p, grace=30.0)
    m = finish(ctx, m, off)
    m["exit_code"] = p.returncode
    # Its own figures: stats windows that lie inside the measured window.
    inside = []
    with open(log, errors="replace") as f:
        text = f.read()
    for line in text.splitlines():
        s = STATS_RE.match(line)
        if not s:
            continue
        ts = dt.datetime.fromisoformat(s.group(1)).timestamp()
        if m["t0"] + int(s.group(4)) - 0.5 <= ts <= m["t1"] + 0.5:
            inside.append(s)
    if inside:
        runs = sum(int(s.group(3)) for s in inside)
        secs = sum(int(s.group(4)) for s in inside)
        m["self_runs_per_s"] = runs / secs if secs else None
        m["self_p50_ms"] = statistics.median(int(s.group(6)) for s in inside)
        m["self_p99_ms"] = max(int(s.group(7)) for s in inside)
        m["self_max_ms"] = max(int(s.group(8)) for s in inside)
        m["self_skipped_total"] = int(inside[-1].group(9))
        m["self_dropped_total"] = int(inside[-1].group(10))
    stop = STOP_RE.search(text)
    if stop:
        m["stop_line"] = stop.group(0)
    m["log_errors"] = sum(1 for line in text.splitlines() if " error " in line)
    m["log_not_ok"] = sum(1 for line in text.splitlines()
                          if "-> CRITICAL" in line or "-> UNKNOWN" in line or "-> WARNING" in line)
    return m


# ---------------------------------------------------------------- report

def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec="{:.0f}"):
    return "-" if v is None else spec.format(v)


def report(results, args, out):
    def line(s=""):
        print(s, file=out)

    A = ["wrk", "monit", "blackbox_exporter", "mamori"]
    if "mamori_headroom" in results:
        A += ["monit_headroom", "mamori_headroom"]
    line(f"Scenario A: throughput, medians of {args.repeats} run(s), {args.window:.0f} s windows "
         f"(requests counted in nginx's access log)")
    line()
    line("| contender | configured | checks/s (nginx) | while busy | non-200 | "
         "contender CPU (cores) | CPU per check (us) | nginx CPU (cores) | driver CPU (cores) | "
         "other load (cores) | peak RSS (MiB) |")
    line("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    conf = {
        "wrk": f"-t1 -c{args.wrk_conns}, Connection: close",
        "monit": f"{args.checks} hosts, set daemon 1",
        "blackbox_exporter": f"/probe via wrk -c{args.blackbox_conns}",
        "mamori": f"{args.checks} checks @ 1s",
        "mamori_headroom": f"{args.headroom_checks} checks @ 1s",
        "monit_headroom": f"{args.headroom_checks} hosts, set daemon 1",
    }
    for k in A:
        rs = results[k]
        line(f"| {k} | {conf[k]} | {fmt(med(rs, 'rate'))} | {fmt(med(rs, 'busy_rate'))} | "
             f"{fmt(med(rs, 'non_200'))} | "
             f"{fmt(med(rs, 'cores'), '{:.2f}')} | "
             f"{fmt(1000 * (med(rs, 'cpu_ms_per_check') or float('nan')), '{:.0f}')} | "
             f"{fmt(med(rs, 'nginx_cores'), '{:.2f}')} | "
             f"{fmt(med(rs, 'driver_cores'), '{:.2f}')} | {fmt(med(rs, 'other_cores'), '{:.2f}')} | "
             f"{fmt((med(rs, 'vmhwm_kb') or 0) / 1024, '{:.1f}')} |")
    line()
    line("Per run (checks/s from nginx): " + "; ".join(
        f"{k} " + ", ".join(f"{r['rate']:.0f}" for r in results[k]) for k in A))
    mon = results["monit"]
    line(f"Monit inside its cycles (idle gaps of 100 ms or more left out): "
         f"{fmt(med(mon, 'busy_rate'))} checks/s with {args.checks} hosts"
         + (f", {fmt(med(results['monit_headroom'], 'busy_rate'))} checks/s with "
            f"{args.headroom_checks}" if "monit_headroom" in results else ""))
    mm = results["mamori"]
    line(f"mamori's own stats inside the window: {fmt(med(mm, 'self_runs_per_s'))} runs/s, "
         f"lateness p50 {fmt(med(mm, 'self_p50_ms'))} ms, p99 {fmt(med(mm, 'self_p99_ms'))} ms "
         f"(worst stats window), max {fmt(med(mm, 'self_max_ms'))} ms; skipped "
         f"{fmt(med(mm, 'self_skipped_total'))}, observations dropped "
         f"{fmt(med(mm, 'self_dropped_total'))}")
    if "mamori_headroom" in results:
        h = results["mamori_headroom"]
        line(f"mamori with {args.headroom_checks} checks: own stats "
             f"{fmt(med(h, 'self_runs_per_s'))} runs/s, p99 {fmt(med(h, 'self_p99_ms'))} ms, "
             f"max {fmt(med(h, 'self_max_ms'))} ms, skipped {fmt(med(h, 'self_skipped_total'))}")
    line()
    r = {k: med(results[k], "rate") for k in A}

    def ratio(a, b):
        return r[a] / r[b] if r[b] else float("nan")

    line("Ratios (checks/s): " + ", ".join([
        f"mamori/monit {ratio('mamori', 'monit'):.2f}x",
        f"mamori/blackbox_exporter {ratio('mamori', 'blackbox_exporter'):.2f}x",
        f"mamori/wrk {ratio('mamori', 'wrk'):.2f}"]))
    goal_a = r["mamori"] >= 8000 and (med(mm, "self_p99_ms") or 1e9) < 100
    line(f"Goal A (>= 8000 checks/s, p99 lateness < 100 ms, >= 3.5x Monit): "
         f"{r['mamori']:.0f}/s, p99 {fmt(med(mm, 'self_p99_ms'))} ms, "
         f"{ratio('mamori', 'monit'):.2f}x Monit -> "
         f"{'met' if goal_a and ratio('mamori', 'monit') >= 3.5 else 'NOT met'}")
    line()
    line(f"Scenario B: {args.small_checks} checks every second, {args.window:.0f} s windows")
    line()
    line("| contender | checks/s (nginx) | peak RSS VmHWM (MiB) | of which anonymous at the end "
         "(MiB) | CPU per check (us) | CPU (% of one core) |")
    line("| --- | ---: | ---: | ---: | ---: | ---: |")
    for k in ("mamori_small", "monit_small"):
        rs = results[k]
        line(f"| {k.replace('_small', '')} | {fmt(med(rs, 'rate'), '{:.1f}')} | "
             f"{fmt(med(rs, 'vmhwm_kb') / 1024, '{:.1f}')} | "
             f"{fmt((med(rs, 'rss_anon_kb') or float('nan')) / 1024, '{:.1f}')} | "
             f"{fmt(1000 * (med(rs, 'cpu_ms_per_check') or float('nan')), '{:.1f}')} | "
             f"{fmt(100 * med(rs, 'cores'), '{:.2f}')} |")
    ms, mo = results["mamori_small"], results["monit_small"]
    rss = med(ms, "vmhwm_kb") / 1024
    cpu_ratio = (med(ms, "cpu_ms_per_check") or float("nan")) / (
        med(mo, "cpu_ms_per_check") or float("nan"))
    line()
    line(f"Goal B (peak RSS <= 8 MB, CPU per check <= Monit's): RSS {rss:.1f} MiB, "
         f"CPU per check {cpu_ratio:.2f}x Monit's -> "
         f"{'met' if rss * 1.048576 <= 8 and cpu_ratio <= 1 else 'NOT met'}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mamori", required=True, help="the mamori binary")
    ap.add_argument("--window", type=float, default=20.0, help="seconds measured per run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before each window")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--checks", type=int, default=10000, help="scenario A checks")
    ap.add_argument("--headroom-checks", type=int, default=20000,
                    help="one extra mamori run with this many checks (0: skip)")
    ap.add_argument("--small-checks", type=int, default=50, help="scenario B checks")
    ap.add_argument("--mamori-timeout", default="1s",
                    help="per-check timeout (mamori requires timeout <= interval)")
    ap.add_argument("--wrk-conns", type=int, default=4)
    ap.add_argument("--blackbox-conns", type=int, default=32)
    ap.add_argument("--nginx-workers", default="1")
    ap.add_argument("--json", help="also write every measurement here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    blackbox = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    for tool in ("nginx", "wrk", "monit", "ss"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found; run scripts/bootstrap.sh --bench")
    if not blackbox:
        raise SystemExit("blackbox_exporter not found; run scripts/bootstrap.sh --bench")

    children = Children()
    root = tempfile.mkdtemp(prefix="mamori-bench-")
    os.chmod(root, 0o755)  # nginx workers run unprivileged when started as root

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = time.time()
    try:
        nginx = Nginx(children, root, args.nginx_workers)
        ctx = {"args": args, "children": children, "root": root, "nginx": nginx,
               "mamori": os.path.abspath(args.mamori), "blackbox": blackbox}
        keys = ["wrk", "monit", "blackbox_exporter", "mamori", "mamori_small", "monit_small"]
        if args.headroom_checks:
            keys += ["monit_headroom", "mamori_headroom"]
        results = {k: [] for k in keys}
        for rep in range(args.repeats):
            # Interleaved, so a change in the machine's load hits every contender.
            steps = [
                ("wrk", lambda: run_wrk(ctx)),
                ("monit", lambda: run_monit(ctx, args.checks, rep)),
                ("blackbox_exporter", lambda: run_blackbox(ctx)),
                ("mamori", lambda: run_mamori(ctx, args.checks, rep)),
                ("mamori_small", lambda: run_mamori(ctx, args.small_checks, rep)),
                ("monit_small", lambda: run_monit(ctx, args.small_checks, rep)),
            ]
            if args.headroom_checks and rep == 0:
                steps.append(("monit_headroom", lambda: run_monit(ctx, args.headroom_checks, rep)))
                steps.append(("mamori_headroom", lambda: run_mamori(ctx, args.headroom_checks, rep)))
            for key, fn in steps:
                m = fn()
                results[key].append(m)
                print(f"[{time.time() - started:5.0f}s] run {rep + 1}/{args.repeats} {key}: "
                      f"{m['rate']:.0f} checks/s, {m['cores']:.2f} cores "
                      f"({m['cpu_ticks_s'] / m['secs']:.2f} by ticks), nginx "
                      f"{m['nginx_cores']:.2f}, load {m['load']}"
                      + (f", own p99 {m['self_p99_ms']} ms" if "self_p99_ms" in m else ""),
                      file=sys.stderr, flush=True)
        print(file=sys.stderr)
        report(results, args, sys.stdout)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "results": results}, f, indent=1)
        print(f"\n(total {time.time() - started:.0f} s)", file=sys.stderr)
    finally:
        children.stop_all()
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
