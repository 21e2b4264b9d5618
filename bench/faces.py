#!/usr/bin/env python3
"""Times mamori's faces for bench/faces.sh: p50/p99 of GET /api/v1/checks,
/metrics (against blackbox_exporter's /metrics, interleaved in each round) and
the dashboard's first view (index.html and every asset it names, then the API
calls the page makes before its first render), over sequential keep-alive
requests from 127.0.0.1. Requests to API v1 and the dashboard are paced under
the daemon's per-address rate limit (50/s), so no 429 is ever timed. Prints one
line per figure and the medians of the rounds."""
import argparse
import http.client
import re
import statistics
import sys
import time

PACE = 1 / 40  # seconds between rate-limited requests (the limit is 50/s)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        """(status, body bytes, seconds)"""
        t = time.perf_counter()
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        took = time.perf_counter() - t
        if r.status != 200:
            sys.exit(f"faces.py: GET {path} answered {r.status}: {body[:200]!r}")
        return body, took


def first_view_paths(client):
    html, _ = client.get("/")
    assets = re.findall(rb'(?:src|href)="(/assets/[^"]+)"', html)
    static = ["/"] + [a.decode() for a in assets]
    data = ["/api/v1/checks"] + [f"/api/v1/uptime?window={w}" for w in ("24h", "7d", "30d", "90d")]
    data.append("/api/v1/incidents?window=30d")
    return static, data


def time_view(client, paths, paced):
    total, size = 0.0, 0
    for p in paths:
        body, took = client.get(p)
        total += took
        size += len(body)
        if paced:
            time.sleep(PACE)
    return total, size


def sample(fn, n):
    return [fn() for _ in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mamori", type=int, required=True)
    ap.add_argument("--blackbox", type=int, required=True)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    m, b = Client(a.mamori), Client(a.blackbox)
    static, data = first_view_paths(m)
    _, static_bytes = time_view(m, static, True)
    _, data_bytes = time_view(m, data, True)
    sizes = {
        "checks": len(m.get("/api/v1/checks")[0]),
        "metrics": len(m.get("/metrics")[0]),
        "blackbox": len(b.get("/metrics")[0]),
    }
    print(f"first view: {len(static)} files, {static_bytes} bytes; its API calls {data_bytes} bytes")
    print(f"/api/v1/checks {sizes['checks']} bytes; /metrics {sizes['metrics']} bytes; "
          f"blackbox /metrics {sizes['blackbox']} bytes")
    results = {k: [] for k in ("checks", "metrics", "blackbox", "static", "view")}

    def api_checks():
        body, took = m.get("/api/v1/checks")
        time.sleep(PACE)
        return took

    for r in range(1, a.rounds + 1):
        rows = {
            "checks": sample(api_checks, a.samples),
            "metrics": sample(lambda: m.get("/metrics")[1], a.samples),
            "blackbox": sample(lambda: b.get("/metrics")[1], a.samples),
            "static": sample(lambda: time_view(m, static, True)[0], a.samples),
            "view": sample(lambda: time_view(m, static + data, True)[0], max(5, a.samples // 4)),
        }
        for k, v in rows.items():
            p50, p99 = pct(v, 50) * 1000, pct(v, 99) * 1000
            results[k].append((p50, p99))
            print(f"round {r} {k:8s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  ({len(v)} samples)")
    names = {"checks": "/api/v1/checks", "metrics": "mamori /metrics",
             "blackbox": "blackbox /metrics", "static": "first view (files)",
             "view": "first view (files + API)"}
    med = {}
    for k, v in results.items():
        med[k] = (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
        print(f"median {names[k]:26s} p50 {med[k][0]:8.2f} ms  p99 {med[k][1]:8.2f} ms")
    mb, bb = med["metrics"], med["blackbox"]
    print(f"ratio mamori/blackbox /metrics: p50 {mb[0] / bb[0]:.1f}x, p99 {mb[1] / bb[1]:.1f}x; "
          f"per KB of body p50 {(mb[0] / sizes['metrics']) / (bb[0] / sizes['blackbox']):.2f}x")


if __name__ == "__main__":
    main()
