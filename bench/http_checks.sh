#!/usr/bin/env bash
# HTTP-check benchmark: mamori side by side with wrk (the ceiling), Monit and
# blackbox_exporter, against one local nginx on 127.0.0.1, counted from that
# nginx's access log. See bench/http_checks.py for what is measured and how.
#
#   bench/http_checks.sh                          # defaults: 3 repeats, 20 s windows (~9 min)
#   bench/http_checks.sh --window 10 --repeats 1  # quick look
#   BUILD_DIR=build-release bench/http_checks.sh --json /tmp/results.json
#
# Installs the peers if missing (scripts/bootstrap.sh --bench) and builds
# mamori in Release (BUILD_DIR, default build-release) before measuring.
# Every process it starts is stopped on exit; nothing listens beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-release}

scripts/bootstrap.sh --bench
if [[ -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
  echo "http_checks.sh: $build_dir is not a Release build; set BUILD_DIR to another directory" >&2
  exit 2
fi
# Incremental: quick when the binary is current.
scripts/build.sh "$build_dir" -DMAMORI_TESTS=OFF >&2

exec python3 bench/http_checks.py --mamori "$build_dir/mamori" "$@"
