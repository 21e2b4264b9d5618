#!/usr/bin/env bash
# The lock discipline, proved by the compiler: the sources of mamori are
# compiled by clang with -Wthread-safety -Werror (syntax and analysis only, no
# code generated), using the flags of an existing build's
# compile_commands.json. Shared state is annotated GUARDED_BY / REQUIRES
# (src/mamori/util/mutex.h); an access without the lock fails here.
#
# First the analysis proves it works: tests/threads/unguarded_access.cc must
# draw exactly the diagnostics it marks (clang -verify), so a setup that
# checks nothing fails instead of passing. Then only the files that can hold
# an annotation are compiled: those whose dependencies (from ninja's record
# of the last build) include util/mutex.h, plus any the record does not know.
# --all compiles every file; --self-test runs only the self-test (CTest's
# ThreadSafety.UnguardedAccessIsRefused).
#   scripts/check_threads.sh [--all | --self-test] [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
[[ "$mode" == --all || "$mode" == --self-test ]] && shift || mode=
dir=${1:-build}
db="$dir/compile_commands.json"
command -v clang++ >/dev/null || { echo "check_threads: clang++ missing (scripts/bootstrap.sh installs it)" >&2; exit 2; }
flags=(-Wthread-safety)
start=$SECONDS

if ! clang++ -std=c++20 -fsyntax-only "${flags[@]}" -Xclang -verify -Isrc \
    tests/threads/unguarded_access.cc; then
  echo "check_threads: the analysis' self-test failed: clang no longer reports the unguarded" \
    "accesses in tests/threads/unguarded_access.cc, so this check would prove nothing" >&2
  exit 1
fi
[[ "$mode" == --self-test ]] && { echo "thread-safety analysis: self-test passed"; exit 0; }

[[ -f "$db" ]] || { echo "check_threads: $db missing: build first (scripts/build.sh $dir)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/deps"
if [[ "$mode" != --all && -f "$dir/build.ninja" ]] && command -v ninja >/dev/null; then
  ninja -C "$dir" -t deps >"$tmp/deps" 2>/dev/null || : >"$tmp/deps"
fi
python3 - "$db" "$tmp/deps" "$([[ "$mode" == --all ]] && echo 1 || echo 0)" "${flags[*]}" >"$tmp/list" <<'PY'
import json, os, re, shlex, sys
db, deps_path, check_all, flags = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4].split()
# ninja -t deps: "OBJECT: #deps N, ..." then the object's inputs, indented.
uses = {}
obj = None
for line in open(deps_path, encoding="utf-8", errors="replace"):
    if line.strip() and not line[0].isspace():
        obj = line.split(":", 1)[0]
        uses[obj] = False
    elif obj is not None and line.strip().endswith("mamori/util/mutex.h"):
        uses[obj] = True
total = chosen = 0
for e in json.load(open(db)):
    f = e["file"]
    if "/src/mamori/" not in f and "/tests/" not in f and "/scenarios/" not in f:
        continue
    total += 1
    args = shlex.split(e["command"]) if "command" in e else e["arguments"]
    # Past the compiler (and a launcher such as ccache before it).
    start = next(i for i, a in enumerate(args) if re.search(r"(c|g|clang)\+\+(-\d+)?$", a)) + 1
    out, skip, obj = ["clang++"], False, None
    for i, a in enumerate(args[start:], start):
        if skip:
            skip = False
            continue
        if a == "-o" and i + 1 < len(args):
            obj = args[i + 1]
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        # The build's precompiled header is GCC's (clang cannot read it):
        # without it each file must compile on its own includes, which is
        # checked here too.
        if a == "-include" and i + 1 < len(args) and args[i + 1].endswith("cmake_pch.hxx"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD", "-Winvalid-pch") or a.startswith("-fsanitize"):
            continue
        out.append(a)
    # A file the record does not know (not built yet, or another generator)
    # is compiled; so is one that names the header itself (a stale record).
    if not check_all and uses.get(obj, True) is False:
        try:
            if "mamori/util/mutex.h" not in open(f, encoding="utf-8", errors="replace").read():
                continue
        except OSError:
            pass
    # GCC-only flags of the main build are not errors here.
    out += ["-fsyntax-only"] + flags + ["-Werror", "-Wno-unknown-warning-option"]
    sys.stdout.write("cd " + shlex.quote(e["directory"]) + " && " + shlex.join(out) + "\0")
    chosen += 1
print(f"thread-safety analysis: {chosen} of {total} files" +
      ("" if chosen == total else " (the others never include util/mutex.h)"), file=sys.stderr)
PY
xargs -0 -n1 -P"$(nproc)" bash -c 'eval "$0"' <"$tmp/list" \
  || { echo "check_threads: thread-safety analysis failed" >&2; exit 1; }
echo "thread-safety analysis: clean ($((SECONDS - start))s)"
