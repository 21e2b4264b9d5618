#!/usr/bin/env bash
# Ping API benchmark: mamori vs nginx (static 200) with wrk, then 20 SIGKILLs
# under load with every acknowledged ping counted back. See bench/ping_api.py.
#   bench/ping_api.sh [--duration 10] [--repeats 3] [--kills 20]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-release}
scripts/bootstrap.sh --bench
scripts/build.sh "$build_dir" -DCMAKE_BUILD_TYPE=Release -DMAMORI_TESTS=OFF >&2
exec python3 bench/ping_api.py --mamori "$build_dir/mamori" "$@"
