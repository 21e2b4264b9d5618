#!/usr/bin/env python3
"""Ping API benchmark: wrk against mamori's /ping/<uuid> (durable storage on)
and, in the same run with the same wrk settings, against nginx answering a
static 200 (the ceiling of this machine), with each server's CPU time per
request (which a busy machine does not skew the way it skews requests/s).
Then the durability run: SIGKILL the
daemon N times while wrk is pinging, restart it, and count the pings back from
the store: every acknowledged (HTTP 200) ping must be there.

Usage: bench/ping_api.py --mamori build-release/mamori [--duration 10]
       [--connections 64] [--threads 2] [--repeats 3] [--kills 20]
"""
import argparse, os, random, re, shutil, signal, socket, sqlite3, statistics, subprocess, sys, tempfile, time

UUID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def wrk(url, a, duration=None):
    out = subprocess.run(["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{duration or a.duration}s",
                          "--latency", url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p = {}
    for q, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        p[q] = float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return {"rps": rps, "total": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "p50": p.get("50"), "p99": p.get("99"), "raw": out}


def cpu_seconds(pid):
    """user + system CPU seconds of a process and its children still running
    (nginx's workers), from /proc."""
    total = 0.0
    pids = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            pids += [int(c) for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
    except OSError:
        pass
    for q in pids:
        try:
            f = open(f"/proc/{q}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


def wrk_cpu(url, a, pid):
    """wrk against url, with the server's CPU microseconds per request served
    (on a busy machine the requests/s follow each server's share of the CPU;
    the CPU per request does not)."""
    before = cpu_seconds(pid)
    r = wrk(url, a)
    r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(r["total"], 1)
    return r


def start_nginx(tmp, port):
    os.makedirs(f"{tmp}/nginx/logs", exist_ok=True)
    conf = f"""worker_processes auto; pid {tmp}/nginx/nginx.pid; error_log {tmp}/nginx/logs/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "OK"; }} }} }}
"""
    open(f"{tmp}/nginx/nginx.conf", "w").write(conf)
    # Its own process group: stop() takes the workers with the master.
    return subprocess.Popen(["nginx", "-p", f"{tmp}/nginx/", "-c", f"{tmp}/nginx/nginx.conf", "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(p, group=False):
    """SIGTERM (nginx's master then stops its workers and waits for them),
    up to 10 s, then SIGKILL to the whole group; always reaped."""
    if p.poll() is not None:
        return
    send = (lambda sig: os.killpg(p.pid, sig)) if group else p.send_signal
    try:
        send(signal.SIGTERM)
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            send(signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def start_mamori(a, cfg, log):
    return subprocess.Popen([a.mamori, "run", "-c", cfg, "--log-level", "warn"], stdout=log, stderr=log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mamori", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kills", type=int, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mamori-ping-bench-")
    procs = []
    nginx = None
    try:
        nport, mport = free_port(), free_port()
        nginx = start_nginx(tmp, nport)
        procs.append(nginx)
        cfg = f"{tmp}/mamori.yaml"
        open(cfg, "w").write(f"""data_dir: {tmp}/data
listen: 127.0.0.1:{mport}
api: {{rate_limit: 0}}
checks:
  - {{name: nightly-backup, type: heartbeat, uuid: {UUID}, period: 1d, grace: 2h}}
""")
        log = open(f"{tmp}/mamori.log", "w")
        m = start_mamori(a, cfg, log)
        procs.append(m)
        if not (wait_port(nport) and wait_port(mport)):
            sys.exit("ping_api.py: nginx or mamori did not start; see " + tmp)
        rows = {"mamori": [], "nginx": []}
        for _ in range(a.repeats):
            rows["mamori"].append(wrk_cpu(f"http://127.0.0.1:{mport}/ping/{UUID}", a, m.pid))
            rows["nginx"].append(wrk_cpu(f"http://127.0.0.1:{nport}/", a, nginx.pid))
        med = {k: {f: statistics.median(r[f] for r in v) for f in ("rps", "p50", "p99", "cpu_us")}
               for k, v in rows.items()}
        bad = sum(r["non2xx"] for r in rows["mamori"])
        print(f"ping API throughput, wrk -t{a.threads} -c{a.connections} -d{a.duration}s, median of {a.repeats}:")
        print(f"{'server':<8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}")
        for k in ("mamori", "nginx"):
            print(f"{k:<8} {med[k]['rps']:>10.0f} {med[k]['p50']:>8.2f} {med[k]['p99']:>8.2f} "
                  f"{med[k]['cpu_us']:>11.1f}")
        print(f"ratio mamori/nginx: {med['mamori']['rps'] / med['nginx']['rps']:.2f}   "
              f"CPU per request nginx/mamori: {med['nginx']['cpu_us'] / med['mamori']['cpu_us']:.2f}   "
              f"non-2xx from mamori: {bad}")
        # (No count-back here: after a minute the daemon's compaction keeps the
        # newest 1,000 pings per check. The durability run below counts.)
        m.send_signal(signal.SIGTERM)
        m.wait(timeout=30)
        procs.remove(m)

        # Durability: kill -9 under load, restart, count back.
        shutil.rmtree(f"{tmp}/data")
        acked = 0
        for i in range(a.kills):
            m = start_mamori(a, cfg, log)
            procs.append(m)
            if not wait_port(mport):
                sys.exit("ping_api.py: mamori did not restart; see " + tmp)
            w = subprocess.Popen(["wrk", f"-t{a.threads}", f"-c{a.connections}", "-d2s", f"http://127.0.0.1:{mport}/ping/{UUID}"],
                                 stdout=subprocess.PIPE, text=True)
            time.sleep(random.uniform(0.3, 1.5))
            m.send_signal(signal.SIGKILL)
            m.wait()
            procs.remove(m)
            out = w.communicate()[0]
            total = int(re.search(r"(\d+) requests in", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            acked += total - (int(non2xx.group(1)) if non2xx else 0)
        db = sqlite3.connect(f"file:{tmp}/data/mamori.db?mode=ro", uri=True)
        stored = db.execute("select count(*) from pings").fetchone()[0]
        db.close()
        lost = max(0, acked - stored)
        print(f"durability: {a.kills} SIGKILLs under load: acknowledged {acked}, stored {stored}, lost {lost}")
        if lost:
            sys.exit(1)
    finally:
        for p in procs:
            stop(p, group=p is nginx)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
