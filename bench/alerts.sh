#!/usr/bin/env bash
# Alert burst benchmark: 10,000 checks fail at once; seconds until the grouped
# e-mails are delivered to a real aiosmtpd, how many e-mails, and scheduling
# lateness with notifications on and off. See bench/alerts.py.
#
#   bench/alerts.sh                       # 10,000 checks
#   bench/alerts.sh --checks 2000 --json /tmp/alerts.json
#   BUILD_DIR=build-release bench/alerts.sh
#
# Builds mamori in Release (BUILD_DIR, default build-release) first. Every
# process it starts is stopped on exit; nothing listens beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-release}
if [[ -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
  echo "alerts.sh: $build_dir is not a Release build; set BUILD_DIR to another directory" >&2
  exit 2
fi
scripts/build.sh "$build_dir" -DMAMORI_TESTS=OFF >&2
exec python3 bench/alerts.py --mamori "$build_dir/mamori" "$@"
