#!/usr/bin/env bash
# /metrics benchmark: mamori with 10,000 checks against blackbox_exporter's own
# /metrics, on the same machine in one run, interleaved, loaded by wrk with the
# same settings. Prints p50/p99 of each, the body sizes and the ratios.
#
#   bench/metrics.sh                          # 10,000 checks, 3 rounds of 10 s
#   bench/metrics.sh --checks 2000 --seconds 5 --rounds 1
#   BUILD_DIR=build bench/metrics.sh
#
# Uses the Release build in BUILD_DIR (default build; built if missing).
# Every process it starts is stopped on exit; nothing listens beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
checks=10000 seconds=10 rounds=3 connections=4
while (($#)); do
  case $1 in
    --checks) checks=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--checks N] [--seconds S] [--rounds R]" >&2; exit 64 ;;
  esac
done
if [[ -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
  echo "metrics.sh: $build_dir is not a Release build; set BUILD_DIR" >&2
  exit 2
fi
[[ -x "$build_dir/mamori" ]] || scripts/build.sh "$build_dir" >&2
for tool in wrk prometheus-blackbox-exporter; do
  command -v "$tool" >/dev/null || { echo "metrics.sh: $tool is not installed" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source bench/lib.sh

mport=$(free_port)
file_checks_config "$work/data" "$mport" "$checks" 10s >"$work/mamori.yaml"
"$build_dir/mamori" run -c "$work/mamori.yaml" >"$work/mamori.log" 2>&1 &
pids+=($!)
mamori_pid=$!
# Every check has a result: its last-observation series is there.
wait_for "http://127.0.0.1:$mport/metrics" "mamori_check_status{check=\"site-$((checks - 1))\"" 120

start_blackbox

# wrk's "Latency Distribution" (--latency): p50 and p99 in ms.
percentile() {  # FILE PCT
  awk -v p="$2%" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
    print v }' "$1"
}
run_wrk() {  # NAME URL ROUND
  local out="$work/$1.$3.txt"
  wrk -t1 -c"$connections" -d"${seconds}s" --latency "$2" >"$out"
  echo "$(percentile "$out" 50) $(percentile "$out" 99) $(awk '/Requests\/sec/ {print $2}' "$out")"
}

mamori_size=$(curl -fsS "http://127.0.0.1:$mport/metrics" | wc -c)
blackbox_size=$(curl -fsS "http://127.0.0.1:$bport/metrics" | wc -c)
mamori_series=$(curl -fsS "http://127.0.0.1:$mport/metrics" | grep -vc '^#')
echo "mamori $checks checks: /metrics $mamori_size bytes, $mamori_series series"
echo "blackbox_exporter: /metrics $blackbox_size bytes"
echo "wrk -t1 -c$connections -d${seconds}s --latency, $rounds round(s), interleaved"
declare -a m50 m99 b50 b99
for ((r = 1; r <= rounds; r++)); do
  read -r a b rps <<<"$(run_wrk mamori "http://127.0.0.1:$mport/metrics" "$r")"
  m50+=("$a"); m99+=("$b")
  echo "round $r mamori:   p50 ${a} ms  p99 ${b} ms  ${rps} req/s"
  read -r a b rps <<<"$(run_wrk blackbox "http://127.0.0.1:$bport/metrics" "$r")"
  b50+=("$a"); b99+=("$b")
  echo "round $r blackbox: p50 ${a} ms  p99 ${b} ms  ${rps} req/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
M50=$(median "${m50[@]}") M99=$(median "${m99[@]}") B50=$(median "${b50[@]}") B99=$(median "${b99[@]}")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$mamori_pid/status")
echo "median of rounds: mamori p50 $M50 ms p99 $M99 ms; blackbox p50 $B50 ms p99 $B99 ms"
awk -v a="$M50" -v b="$B50" -v c="$M99" -v d="$B99" -v ms="$mamori_size" -v bs="$blackbox_size" \
  'BEGIN { printf "ratio mamori/blackbox: p50 %.1fx, p99 %.1fx; per KB of body: p50 %.2fx\n",
           a / b, c / d, (a / ms) / (b / bs) }'
echo "mamori RSS with $checks checks: $((rss / 1024)) MiB"
