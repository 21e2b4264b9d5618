#!/usr/bin/env bash
# Footprint: mamori and Monit side by side on the same 50, 1,000 and 10,000
# HTTP checks against one nginx on 127.0.0.1; peak RSS (VmHWM), RssAnon,
# RssFile and CPU seconds after a fixed window, medians of 3, ratios.
# See bench/footprint.py for what is measured and how.
#
#   bench/footprint.sh                            # defaults: 3 sizes x 3 repeats x 30 s (~10 min)
#   bench/footprint.sh --checks 50 --window 10    # quick look
#   BUILD_DIR=build bench/footprint.sh            # measure an existing Release tree
#
# Installs Monit and nginx if missing (scripts/bootstrap.sh --bench) and
# builds mamori in Release (BUILD_DIR, default build-release) first.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-release}

command -v monit >/dev/null && command -v nginx >/dev/null || scripts/bootstrap.sh --bench
if [[ -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
  echo "footprint.sh: $build_dir is not a Release build; set BUILD_DIR to another directory" >&2
  exit 2
fi
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  scripts/build.sh "$build_dir" -DMAMORI_TESTS=OFF >&2
else
  scripts/build.sh "$build_dir" >&2  # incremental: quick when the binary is current
fi
exec python3 bench/footprint.py --mamori "$build_dir/mamori" "$@"
