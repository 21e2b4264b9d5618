#!/usr/bin/env bash
# The lock discipline, proved by the compiler: every source file of mamori is
# compiled by clang with -Wthread-safety -Werror (syntax and analysis only, no
# code generated), using the flags of an existing build's
# compile_commands.json. Shared state is annotated GUARDED_BY / REQUIRES
# (src/mamori/util/mutex.h); an access without the lock fails here.
#   scripts/check_threads.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
db="$dir/compile_commands.json"
[[ -f "$db" ]] || { echo "check_threads: $db missing: build first (scripts/build.sh $dir)" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "check_threads: clang++ missing (scripts/bootstrap.sh installs it)" >&2; exit 2; }
python3 - "$db" <<'PY' | xargs -0 -n1 -P"$(nproc)" bash -c 'eval "$0"' || { echo "check_threads: thread-safety analysis failed" >&2; exit 1; }
import json, re, shlex, sys
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if "/src/mamori/" not in f and "/tests/" not in f and "/scenarios/" not in f:
        continue
    args = shlex.split(e["command"]) if "command" in e else e["arguments"]
    # Past the compiler (and a launcher such as ccache before it).
    start = next(i for i, a in enumerate(args) if re.search(r"(c|g|clang)\+\+(-\d+)?$", a)) + 1
    out, skip = ["clang++"], False
    for a in args[start:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.startswith("-fsanitize"):
            continue
        out.append(a)
    # GCC-only flags of the main build are not errors here.
    out += ["-fsyntax-only", "-Wthread-safety", "-Werror", "-Wno-unknown-warning-option"]
    sys.stdout.write("cd " + shlex.quote(e["directory"]) + " && " + shlex.join(out) + "\0")
PY
echo "thread-safety analysis: clean"
