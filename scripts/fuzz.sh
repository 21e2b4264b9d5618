#!/bin/sh
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang and runs them.
#
#   scripts/fuzz.sh [TARGET] [SECONDS]
#
# TARGET is a fuzzer name such as "perfdata" (or "perfdata_fuzz"), or "all"
# (the default); SECONDS is the run time per target (default 60). Seeds come
# from fuzz/corpus/<name>/; inputs the fuzzer discovers are kept in
# build-fuzz/corpus/<name>/ and crashes in build-fuzz/artifacts/<name>/.
# Exits non-zero if any fuzzer found a crash.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MAMORI_FUZZ_BUILD:-$root/build-fuzz}
target=${1:-all}
seconds=${2:-60}
jobs=${JOBS:-2}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DMAMORI_FUZZ=ON \
    -DMAMORI_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build" -j"$jobs" fuzzers

if [ "$target" = all ]; then
  names=$(for f in "$root"/fuzz/*_fuzz.cc; do basename "$f" _fuzz.cc; done)
else
  names=${target%_fuzz}
fi

status=0
for name in $names; do
  exe="$build/${name}_fuzz"
  if [ ! -x "$exe" ]; then
    echo "fuzz.sh: no fuzzer named '$name' (expected fuzz/${name}_fuzz.cc)" >&2
    exit 2
  fi
  work="$build/corpus/$name"
  artifacts="$build/artifacts/$name/"
  mkdir -p "$work" "$artifacts"
  seeds=""
  [ -d "$root/fuzz/corpus/$name" ] && seeds="$root/fuzz/corpus/$name"
  echo "== $name: ${seconds}s"
  # shellcheck disable=SC2086  # $seeds is empty or one directory
  if ! "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" $seeds; then
    echo "fuzz.sh: $name found a problem; see $artifacts" >&2
    status=1
  fi
done
exit $status
