#!/usr/bin/env bash
# The cost of one stale_files scan: `mamori check` with one stale_files check
# over this host's /run, /var/run, /var/lock plus a planted directory of
# FILES pid files with dead pids and FILES/10 socket files nobody listens on
# (so every rule runs: the /proc lookups, /proc/net/unix, the confirming
# connects, the owning units from systemd where it runs). REPEATS runs; it
# prints the median of the check's own duration_ms (mamori's clock around the
# probe) and of the whole process's wall time and CPU (user+sys, from its
# rusage), next to `systemctl list-units --failed` on the same host.
#
#   bench/stale_files.sh                       # FILES=2000, 11 repeats
#   FILES=0 REPEATS=5 bench/stale_files.sh     # the host's own /run only
#   MAMORI=build-release/mamori bench/stale_files.sh
#
# Writes only to WORK (default /tmp/mamori-stale-bench), never to /run.
set -euo pipefail
cd "$(dirname "$0")/.."
mamori=${MAMORI:-$(pwd)/build/mamori}
work=${WORK:-/tmp/mamori-stale-bench}
files=${FILES:-2000}
repeats=${REPEATS:-11}
[[ -x "$mamori" ]] || { echo "stale_files.sh: no mamori binary at $mamori (set MAMORI)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "stale_files.sh: python3 is needed to plant sockets" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work/plant"
# A dead pid: a child that has exited and been reaped.
sh -c 'true' & dead=$!; wait
python3 - "$work/plant" "$files" "$dead" <<'PY'
import os, socket, sys
d, n, dead = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "s%d.pid" % i), "w") as f:
        f.write(dead + "\n")
    if i % 10 == 0:
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(sub, "s%d.sock" % i))
        s.close()
PY
cat > "$work/mamori.yaml" <<YAML
data_dir: $work/data
checks:
  - {name: stale, type: stale_files, paths: ["$work/plant"], grace: 0s, timeout: 30s}
YAML

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: > "$work/check_ms"; : > "$work/wall_ms"; : > "$work/cpu_ms"; : > "$work/systemctl_ms"
for ((i = 0; i < repeats; i++)); do
  # Wall time and the child's CPU (user+sys) from its rusage.
  python3 - "$work/time" "$mamori" check -c "$work/mamori.yaml" --json > "$work/out.json" <<'PY'
import os, resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:])
wall = time.monotonic() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%f %f %f\n" % (wall, r.ru_utime, r.ru_stime))
PY
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["duration_ms"])' \
    "$work/out.json" >> "$work/check_ms"
  read -r wall user sys < "$work/time"
  awk -v w="$wall" 'BEGIN {print w * 1000}' >> "$work/wall_ms"
  awk -v u="$user" -v s="$sys" 'BEGIN {print (u + s) * 1000}' >> "$work/cpu_ms"
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    start=$(date +%s%N)
    systemctl list-units --failed --no-pager >/dev/null 2>&1 || true
    echo $(( ($(date +%s%N) - start) / 1000000 )) >> "$work/systemctl_ms"
  fi
done

summary=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; print(r["status"], {k: v for k, v in r["metrics"].items() if ":" not in k})' "$work/out.json")
echo "## stale_files: one scan"
echo
echo "Command: \`FILES=$files REPEATS=$repeats bench/stale_files.sh\` ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| what | median |"
echo "| --- | --- |"
echo "| the check (duration_ms) | $(median < "$work/check_ms") ms |"
echo "| \`mamori check\` process, wall | $(median < "$work/wall_ms") ms |"
echo "| \`mamori check\` process, CPU (user+sys) | $(median < "$work/cpu_ms") ms |"
if [[ -s "$work/systemctl_ms" ]]; then
  echo "| \`systemctl list-units --failed\`, wall | $(median < "$work/systemctl_ms") ms |"
fi
echo
echo "Last result: $summary"
