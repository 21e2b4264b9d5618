#!/usr/bin/env python3
"""Client load for bench/soak.sh: pings at a steady rate and one read of the
heartbeats API every second, against a running `mamori run`, until the
deadline. Prints one JSON line of counts and latencies at the end.

Each ping is a fresh connection (as curl from a cron job would be); every
request has a 5 s deadline, so a hung daemon shows up as errors, never as a
hung benchmark.
"""
import argparse
import http.client
import json
import threading
import time


def request(port, method, path, body=None):
    """(status or 0 on error, seconds)."""
    start = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request(method, path, body=body, headers={"Connection": "close"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, time.monotonic() - start
    except (OSError, http.client.HTTPException):
        return 0, time.monotonic() - start


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.status = {}
        self.latencies = []

    def add(self, status, seconds):
        with self.lock:
            self.status[status] = self.status.get(status, 0) + 1
            self.latencies.append(seconds)

    def summary(self):
        lat = sorted(self.latencies) or [0.0]
        return {"status": {str(k): v for k, v in sorted(self.status.items())},
                "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
                "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
                "max_ms": round(lat[-1] * 1000, 2)}


def paced(rate, until, fn):
    """Calls fn() `rate` times a second on a fixed schedule (no catch-up burst)."""
    period = 1.0 / rate
    next_at = time.monotonic()
    while next_at < until:
        fn()
        next_at += period
        now = time.monotonic()
        if next_at < now:
            next_at = now
        time.sleep(max(0.0, next_at - now))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--uuid", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--ping-rate", type=float, default=50)
    p.add_argument("--ping-threads", type=int, default=4)
    a = p.parse_args()
    until = time.monotonic() + a.duration
    pings, reads = Tally(), Tally()
    n = [0]
    n_lock = threading.Lock()

    def ping():
        with n_lock:
            n[0] += 1
            body = f"soak ping {n[0]}"
        pings.add(*request(a.port, "POST", f"/ping/{a.uuid}", body))

    def read():
        reads.add(*request(a.port, "GET", "/api/v1/heartbeats"))

    # Several threads share the ping rate, so one slow answer does not hold
    # the others back.
    threads = [threading.Thread(target=paced, args=(a.ping_rate / a.ping_threads, until, ping))
               for _ in range(a.ping_threads)]
    threads.append(threading.Thread(target=paced, args=(1, until, read)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"pings": pings.summary(), "api_reads": reads.summary(), "pings_sent": n[0]}))


if __name__ == "__main__":
    main()
