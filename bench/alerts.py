#!/usr/bin/env python3
"""Alert burst: N checks fail at the same moment; how long until the grouped
notifications are delivered, how many e-mails that takes, and whether check
scheduling notices.

Every check is a `file` check on one shared flag file (cheap, so the figures
are about alerting, not probing), at a 1 s interval with
failures_before_alert: 1. After a warm-up with everything OK the flag file is
removed; all N checks go CRITICAL within one interval.

Two runs with the same checks:
  off  no notify: channels (the scheduling baseline)
  on   one e-mail channel to a real aiosmtpd (tests/testing/smtp_sink.py),
       which writes every accepted message to a directory
Measured for "on": seconds from the removal of the flag file to the moment
the sink holds messages covering all N checks (sum of the "N changes" in the
subjects), and the number of e-mails. For both: scheduling lateness p99 and
max from mamori's own stats lines (written every 2 s), over the windows after
the failure, and over the whole run.

Children run in their own process groups and are stopped on exit. Loopback
only. Normally started through bench/alerts.sh.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "..", "tests", "testing", "smtp_sink.py")

STATS_RE = re.compile(
    r"stats: (\d+) checks, (\d+) runs in (\d+)s \((\d+)/s\), lateness p50 (\d+)ms "
    r"p99 (\d+)ms max (\d+)ms")
STOP_RE = re.compile(r"stopped after ([\d.]+)s: (\d+) runs \((\d+)/s\), lateness p50 ([\d.]+)ms "
                     r"p99 ([\d.]+)ms max ([\d.]+)ms")
TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(p):
    if p and p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def parse_ts(line):
    m = TS_RE.match(line)
    if not m:
        return None
    return time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) + \
        int(m.group(1)[20:]) / 1000.0


def covered(maildir):
    """Checks covered by the messages received so far, and the message count."""
    total, count = 0, 0
    for name in os.listdir(maildir):
        if not name.endswith(".eml"):
            continue
        count += 1
        with open(os.path.join(maildir, name), "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
        m = re.search(r"^Subject: (.*)$", head, re.M)
        subject = m.group(1) if m else ""
        n = re.search(r"(\d+) changes", subject)
        total += int(n.group(1)) if n else 1
    return total, count


def run(mamori, checks, notify, warmup, after, workdir):
    d = tempfile.mkdtemp(prefix="alerts-" + ("on-" if notify else "off-"), dir=workdir)
    flag = os.path.join(d, "flag")
    open(flag, "w").write("x")
    sink = None
    maildir = os.path.join(d, "mail")
    os.mkdir(maildir)
    cfg = [f"data_dir: {d}/data",
           "defaults: {interval: 1s, timeout: 500ms, failures_before_alert: 1, "
           "successes_before_recovery: 1}",
           "alerting: {group_wait: 2s}"]
    if notify:
        port = free_port()
        sink = subprocess.Popen(["/usr/bin/python3", SINK, str(port), maildir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        if not wait_port(port):
            stop(sink)
            sys.exit("aiosmtpd did not start")
        cfg += ["notify:",
                f"  - {{name: ops-mail, type: email, smtp: 'smtp://127.0.0.1:{port}', "
                "from: mamori@example.org, to: [ops@example.org]}"]
    cfg.append("checks:")
    for i in range(checks):
        cfg.append(f"  - {{name: c{i:05d}, type: file, path: '{flag}'}}")
    with open(os.path.join(d, "mamori.yaml"), "w") as f:
        f.write("\n".join(cfg) + "\n")
    log_path = os.path.join(d, "mamori.log")
    log = open(log_path, "wb")
    p = subprocess.Popen([mamori, "run", "-c", os.path.join(d, "mamori.yaml"),
                          "--stats-interval", "2s"],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    result = {"notify": notify, "checks": checks}
    try:
        time.sleep(warmup)
        t0 = time.time()
        os.remove(flag)
        if notify:
            deadline = t0 + 120
            while time.time() < deadline:
                total, count = covered(maildir)
                if total >= checks:
                    break
                time.sleep(0.05)
            t_done = time.time()
            total, count = covered(maildir)
            result.update(delivered_s=round(t_done - t0, 2), emails=count, items=total)
        time.sleep(max(0.0, t0 + after - time.time()))
    finally:
        stop(p)
        stop(sink)
        log.close()
    text = open(log_path, encoding="utf-8", errors="replace").read()
    windows = []
    for line in text.splitlines():
        m = STATS_RE.search(line)
        if m:
            windows.append((parse_ts(line), int(m.group(6)), int(m.group(7))))
    after_fail = [w for w in windows if w[0] and w[0] >= t0]
    if after_fail:
        result["p99_after_ms"] = max(w[1] for w in after_fail)
        result["max_after_ms"] = max(w[2] for w in after_fail)
    m = STOP_RE.search(text)
    if m:
        result.update(runs_per_s=int(m.group(3)), p99_ms=float(m.group(5)),
                      max_ms=float(m.group(6)))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mamori", required=True)
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument("--after", type=float, default=20,
                    help="seconds to keep running after the failure")
    ap.add_argument("--json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-alerts-bench-") as work:
        off = run(a.mamori, a.checks, False, a.warmup, a.after, work)
        on = run(a.mamori, a.checks, True, a.warmup, a.after, work)
    print(f"{a.checks} checks fail at once (file checks, 1 s interval, group_wait 2s)")
    print(f"notifications on: all {on.get('items')} items delivered "
          f"{on.get('delivered_s')} s after the failure in {on.get('emails')} e-mails")
    print("| run | runs/s | lateness p99 (whole run) | max | p99 after failure | max after failure |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in (("notifications off", off), ("notifications on", on)):
        print(f"| {name} | {r.get('runs_per_s')} | {r.get('p99_ms')} ms | {r.get('max_ms')} ms | "
              f"{r.get('p99_after_ms')} ms | {r.get('max_after_ms')} ms |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"off": off, "on": on}, f, indent=2)


if __name__ == "__main__":
    main()
