#!/usr/bin/env bash
# Configures and builds mamori. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Default: build/ in Release with the tests. On a terminal it shows ninja's
# progress line (a first build takes minutes); elsewhere (CI logs, pipes, or
# MAMORI_QUIET_BUILD=1) it is quiet unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
# A compiler cache, where one is installed, makes rebuilds of other trees cheap.
# It caches files compiled with the precompiled header only when told that
# the header's defines and time macros do not matter (they do not here).
command -v ccache >/dev/null 2>&1 &&
  gen+=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;ccache")
interactive=0
[[ -t 1 && -z "${CI:-}" && -z "${MAMORI_QUIET_BUILD:-}" ]] && interactive=1
if [[ ! -f "$dir/CMakeCache.txt" ]]; then
  (( interactive )) && echo "Configuring $dir ..."
  cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; exit 1; }
elif (( $# > 0 )); then
  cmake -S . -B "$dir" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
fi
if (( interactive )); then
  # Straight to the terminal: ninja then keeps one "[done/total] file" status
  # line updated in place, and prints compiler output as it comes.
  echo "Building $dir with $(nproc) jobs ..."
  exec cmake --build "$dir" -j "$(nproc)"
fi
# Progress lines (and cmake's "-- ..." lines when a commit re-runs it) are
# dropped; compiler output is kept. The build's own exit status decides (grep
# finding nothing to print is not a failure).
status=0
cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 || status=$?
grep -Ev '^(\[[0-9]+/[0-9]+\] |-- )' "$dir.build.log" || true
exit "$status"
