#!/usr/bin/env bash
# Installs what is missing, builds mamori with its tests (-Wall -Wextra -Werror),
# checks the locking with clang (scripts/check_threads.sh) and runs the whole
# suite with CTest. Tests start their own real servers
# (nginx, ...) on 127.0.0.1 in temporary directories.
#   scripts/test.sh             Release build in build/
#   scripts/test.sh --sanitize  ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMORI_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  scripts/build.sh build
fi
# The lock discipline, checked by clang's thread-safety analysis (-Werror).
scripts/check_threads.sh "$dir"
cd "$dir"
ctest -j2 --output-on-failure --timeout 600
