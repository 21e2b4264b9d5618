#!/usr/bin/env bash
# Soak test: the daemon under mixed load for DURATION seconds, its resident
# memory, open descriptors and threads sampled every second, and a verdict on
# whether they stay flat (no leak).
#
#   bench/soak.sh                      # 600 s, 200 http checks at 1 s, 50 pings/s
#   DURATION=60 bench/soak.sh          # quick look
#   MAMORI=build/mamori OUT=/tmp/soak DURATION=600 bench/soak.sh
#
# Load: HTTP_CHECKS (200) `http` checks every second against one local nginx,
# one `heartbeat` check pinged PING_RATE (50) times a second over fresh
# connections, and GET /api/v1/heartbeats once a second (bench/soak_load.py).
# Samples go to OUT/samples.csv (t_s,rss_kb,fds,threads); the daemon's log
# (with its scheduler stats every 10 s) to OUT/mamori.log.
#
# Verdict, over the last 80% of the run (the first 20% is warm-up: SQLite's
# page cache, malloc arenas and connection caches fill):
#   RSS      least-squares slope in KB/min; flat when under RSS_SLOPE_MAX (5
#            KB/min, about 7 MB a day);
#   fds      max - min, and the slope; flat when the slope is under 1 fd/min
#            (the count moves with the checks and pings in flight at each
#            sample, so the range alone is not a leak);
#   threads  max - min; flat when 0.
# Exits 0 when all three are flat, 1 otherwise.
#
# Nothing listens beyond 127.0.0.1, and every process it starts (nginx with
# its workers, the daemon, the load client) is stopped on exit, also on
# failure or Ctrl-C (trap EXIT). CI does not run this.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-600}
HTTP_CHECKS=${HTTP_CHECKS:-200}
PING_RATE=${PING_RATE:-50}
RSS_SLOPE_MAX=${RSS_SLOPE_MAX:-5}
MAMORI=${MAMORI:-build/mamori}
OUT=${OUT:-$(mktemp -d /tmp/mamori-soak-XXXXXX)}
UUID=5f0d3c2a-9b1e-4e7a-8c4d-1a2b3c4d5e6f

[[ -x $MAMORI ]] || { echo "soak.sh: $MAMORI not built (scripts/build.sh build)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "soak.sh: nginx is not installed" >&2; exit 2; }
mkdir -p "$OUT/nginx/logs" "$OUT/data"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

nginx_pid="" mamori_pid="" load_pid=""
stop_all() {
  local status=$?
  [[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  if [[ -n $mamori_pid ]] && kill -TERM "$mamori_pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$mamori_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$mamori_pid" 2>/dev/null || true
    wait "$mamori_pid" 2>/dev/null || true
  fi
  # nginx leads its own process group: the group takes the workers too.
  if [[ -n $nginx_pid ]] && kill -TERM -- "-$nginx_pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 -- "-$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

nginx_port=$(free_port)
cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 1; pid $OUT/nginx/nginx.pid; error_log $OUT/nginx/logs/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "OK"; } } }
EOF
# Not a job-control shell, so setsid execs nginx in place: $! is the master,
# and the leader of a new process group.
setsid nginx -p "$OUT/nginx/" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 &
nginx_pid=$!

port=$(free_port)
{
  echo "data_dir: $OUT/data"
  echo "listen: 127.0.0.1:$port"
  echo "defaults: {interval: 1s, timeout: 1s}"
  echo "checks:"
  echo "  - {name: soak-job, type: heartbeat, uuid: $UUID, period: 1m, grace: 1m}"
  for i in $(seq -w 1 "$HTTP_CHECKS"); do
    echo "  - {name: web-$i, type: http, url: \"http://127.0.0.1:$nginx_port/?c=$i\"}"
  done
} >"$OUT/mamori.yaml"
"$MAMORI" run -c "$OUT/mamori.yaml" --stats-interval 10s >"$OUT/mamori.log" 2>&1 &
mamori_pid=$!
for _ in $(seq 100); do grep -q "ping API listening" "$OUT/mamori.log" && break; sleep 0.1; done
grep -q "ping API listening" "$OUT/mamori.log" || { echo "soak.sh: the daemon did not start; see $OUT/mamori.log" >&2; exit 1; }

python3 bench/soak_load.py --port "$port" --uuid "$UUID" --duration "$DURATION" \
  --ping-rate "$PING_RATE" >"$OUT/load.json" &
load_pid=$!

echo "t_s,rss_kb,fds,threads" >"$OUT/samples.csv"
start=$(date +%s.%N)
for ((i = 0; i < DURATION; i++)); do
  kill -0 "$mamori_pid" 2>/dev/null || { echo "soak.sh: the daemon died; see $OUT/mamori.log" >&2; exit 1; }
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$mamori_pid/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$mamori_pid/status")
  fds=$(find "/proc/$mamori_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  now=$(date +%s.%N)
  echo "$(awk -v a="$now" -v b="$start" 'BEGIN {printf "%.1f", a - b}'),$rss,$fds,$threads" >>"$OUT/samples.csv"
  # Keep to the second without drifting.
  sleep "$(awk -v s="$start" -v n="$(date +%s.%N)" -v i="$i" 'BEGIN {d = s + i + 1 - n; print (d > 0 ? d : 0)}')"
done
wait "$load_pid"
load_pid=""

echo "command: DURATION=$DURATION HTTP_CHECKS=$HTTP_CHECKS PING_RATE=$PING_RATE bench/soak.sh"
echo "output: $OUT"
echo "load: $(cat "$OUT/load.json")"
echo "last scheduler stats: $(grep 'stats:' "$OUT/mamori.log" | tail -1 | sed 's/.* stats:/stats:/')"
echo "worst scheduler window: $(grep -o 'p99 [0-9]*ms max [0-9]*ms' "$OUT/mamori.log" | sort -t' ' -k4 -n | tail -1)"
python3 - "$OUT/samples.csv" "$RSS_SLOPE_MAX" <<'EOF'
import csv, sys
rows = [(float(r["t_s"]), int(r["rss_kb"]), int(r["fds"]), int(r["threads"]))
        for r in csv.DictReader(open(sys.argv[1]))]
rss_slope_max = float(sys.argv[2])
tail = rows[len(rows) // 5:]

def slope_per_min(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0

t = [r[0] for r in tail]
rss, fds, thr = ([r[i] for r in tail] for i in (1, 2, 3))
rss_slope, fd_slope = slope_per_min(t, rss), slope_per_min(t, fds)
flat = {"rss": rss_slope < rss_slope_max, "fds": abs(fd_slope) < 1, "threads": max(thr) == min(thr)}
print(f"samples: {len(rows)} ({len(tail)} in the last 80%, from t={t[0]:.0f}s)")
print(f"RSS: {min(rss)}..{max(rss)} KB (start {rows[0][1]} KB), slope over the last 80%: "
      f"{rss_slope:+.2f} KB/min -> {'flat' if flat['rss'] else 'GROWING'} (limit {rss_slope_max} KB/min)")
print(f"fds: {min(fds)}..{max(fds)} (max - min {max(fds) - min(fds)}), slope {fd_slope:+.3f}/min "
      f"-> {'flat' if flat['fds'] else 'GROWING'}")
print(f"threads: {min(thr)}..{max(thr)} (max - min {max(thr) - min(thr)}) "
      f"-> {'flat' if flat['threads'] else 'CHANGING'}")
print("verdict:", "FLAT (no leak seen)" if all(flat.values()) else
      "NOT FLAT: " + ", ".join(k for k, v in flat.items() if not v))
sys.exit(0 if all(flat.values()) else 1)
EOF
