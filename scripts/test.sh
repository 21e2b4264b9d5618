#!/usr/bin/env bash
# Installs what is missing, builds mamori with its tests (-Wall -Wextra -Werror)
# and runs the whole suite with CTest. Tests start their own real servers
# (nginx, ...) on 127.0.0.1 in temporary directories.
#   scripts/test.sh             Release build in build/
#   scripts/test.sh --sanitize  ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [[ "${1:-}" == "--sanitize" ]]; then
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMORI_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  cd build-asan
else
  scripts/build.sh build
  cd build
fi
ctest -j2 --output-on-failure --timeout 600
