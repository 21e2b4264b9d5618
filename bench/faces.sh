#!/usr/bin/env bash
# Faces benchmark: a store with 10,000 checks and 30 days of history (written
# by bench/faces_store_gen.cc through the Store's own writer), then p50/p99 of
# GET /api/v1/checks, /metrics and the dashboard's first view, the store's
# size, and /metrics beside blackbox_exporter's in the same run (interleaved).
# Medians of the rounds and the ratios are printed (bench/faces.py measures).
#
#   bench/faces.sh                            # 10,000 checks, 30 days, 3 rounds
#   bench/faces.sh --checks 1000 --days 7 --rounds 1
#   BUILD_DIR=build bench/faces.sh
#
# Uses the Release build in BUILD_DIR (default build), configured with
# -DMAMORI_BENCH=ON for the generator. Every process it starts is stopped on
# exit; nothing listens beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
checks=10000 days=30 step=60 rounds=3 samples=40
while (($#)); do
  case $1 in
    --checks) checks=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --step-minutes) step=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    *) echo "usage: $0 [--checks N] [--days D] [--step-minutes M] [--rounds R] [--samples S]" >&2
       exit 64 ;;
  esac
done
if [[ -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
  echo "faces.sh: $build_dir is not a Release build; set BUILD_DIR" >&2
  exit 2
fi
if [[ ! -x "$build_dir/bench/faces_store_gen" || ! -x "$build_dir/mamori" ]]; then
  scripts/build.sh "$build_dir" -DMAMORI_BENCH=ON >&2
fi
command -v prometheus-blackbox-exporter >/dev/null ||
  { echo "faces.sh: prometheus-blackbox-exporter is not installed" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source bench/lib.sh

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
"$build_dir/bench/faces_store_gen" "$work/data" "$checks" "$days" "$step"
store_bytes=$(du -cb "$work/data"/mamori.db* | awk 'END {print $1}')
echo "store: $((store_bytes / 1024 / 1024)) MiB ($store_bytes bytes) after compaction (raw 7 d)"

mport=$(free_port)
# Every check runs within the first minute (so /metrics has all of them),
# and keeps running while the faces are measured, as on a real server.
file_checks_config "$work/data" "$mport" "$checks" 60s >"$work/mamori.yaml"
"$build_dir/mamori" run -c "$work/mamori.yaml" >"$work/mamori.log" 2>&1 &
pids+=($!)
mamori_pid=$!
wait_for "http://127.0.0.1:$mport/api/v1/checks" "\"site-$((checks - 1))\"" 120
wait_for "http://127.0.0.1:$mport/metrics" "mamori_check_status{check=\"site-$((checks - 1))\"" 120

start_blackbox

python3 bench/faces.py --mamori "$mport" --blackbox "$bport" --rounds "$rounds" --samples "$samples"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$mamori_pid/status")
echo "mamori RSS with $checks checks: $((rss / 1024)) MiB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
