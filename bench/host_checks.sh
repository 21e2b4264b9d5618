#!/bin/sh
# The cost of one run of the host checks of "after a reboot" (deleted_libs,
# kernel, mounts) on this machine: each check is run REPEATS times with
# `mamori check --json`, and the runner's own duration_ms (the probe's work
# alone, not the process start) is reported as min / median / max, with the
# number of processes the deleted_libs scan read. Run as root to read every
# process's maps.
#   bench/host_checks.sh [MAMORI] [REPEATS]
set -eu
MAMORI=${1:-build/mamori}
REPEATS=${2:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/host.yaml" <<YAML
data_dir: $dir/data
checks:
  - {name: deleted-libs, type: deleted_libs}
  - {name: kernel, type: kernel}
  - {name: mounts, type: mounts}
YAML
i=0
while [ "$i" -lt "$REPEATS" ]; do
  "$MAMORI" check -c "$dir/host.yaml" --json >>"$dir/runs.json" || true
  i=$((i + 1))
done
python3 - "$dir/runs.json" <<'PY'
import json, statistics, sys
text = open(sys.argv[1]).read()
dec, pos, rows = json.JSONDecoder(), 0, []
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    arr, pos = dec.raw_decode(text, pos)
    rows += arr
for name in ("deleted-libs", "kernel", "mounts"):
    ms = sorted(r["duration_ms"] for r in rows if r["name"] == name)
    extra = ""
    if name == "deleted-libs":
        scanned = [r["metrics"].get("scanned") for r in rows if r["name"] == name]
        extra = f", {int(statistics.median(scanned))} processes scanned"
    print(f"{name}: {len(ms)} runs, min {ms[0]:.2f} ms, median {statistics.median(ms):.2f} ms, "
          f"max {ms[-1]:.2f} ms{extra}")
PY
