#!/usr/bin/env bash
# Host scan: the cost of one full look at the host (systemd units, stale pid
# and socket files, listeners) by `mamori check`, next to `systemctl
# list-units --failed`, on the same booted host with UNITS extra units.
#
#   bench/host_scan.sh                     # 300 extra units, 20 runs each
#   UNITS=300 RUNS=20 MAMORI=build/mamori bench/host_scan.sh
#
# The host is this machine's own /usr booted as a container (systemd-nspawn
# --volatile=yes: the root is a tmpfs, the host is untouched) with UNITS
# planted services (each a `sleep infinity`: real running units, the common
# case on a server) enabled for multi-user.target. A oneshot unit waits until
# the boot is done, then runs each contender RUNS times, interleaved, and
# writes per-run wall time (ms) and CPU time (user+system of the child, ms)
# to /out. Both contenders write their output to a file, not /dev/null.
# Prints medians and the ratio. Needs root and systemd-nspawn. CI does not run
# it.
set -euo pipefail
cd "$(dirname "$0")/.."

UNITS=${UNITS:-300}
RUNS=${RUNS:-20}
MAMORI=$(realpath "${MAMORI:-build/mamori}")
[[ -x $MAMORI ]] || { echo "host_scan.sh: $MAMORI not built (scripts/build.sh build)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "host_scan.sh: booting a container needs root" >&2; exit 2; }
command -v systemd-nspawn >/dev/null || { echo "host_scan.sh: apt-get install systemd-container" >&2; exit 2; }

work=$(mktemp -d /tmp/mamori-hostscan-XXXXXX)
trap 'rm -rf "$work"' EXIT
units=$work/units
mkdir -p "$units/multi-user.target.wants" "$work/out"
for i in $(seq -w 1 "$UNITS"); do
  printf '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' \
    > "$units/bench-$i.service"
  ln -s "../bench-$i.service" "$units/multi-user.target.wants/bench-$i.service"
done

# The host checks of the zero-config default (disks, memory and load are
# cheap and measured elsewhere; network sends queries and is left out).
cat > "$work/cfg.yaml" <<'EOF'
data_dir: /tmp/mamori-data
checks:
  - {name: systemd-units, type: systemd}
  - {name: stale-files, type: stale_files}
  - {name: tcp-listeners, type: listening}
  - {name: mounts, type: mounts, inodes: false}
  - {name: kernel, type: kernel}
  - {name: deleted-libs, type: deleted_libs}
EOF

# One run of a command: wall ms and the child's CPU ms (bash's `times` gives
# the children's user+system time once they have been waited for).
cat > "$work/measure.sh" <<'EOF'
#!/bin/bash
# usage: measure.sh OUTFILE CMD...; prints "wall_ms cpu_ms". Pure bash: the
# container's /etc has no alternatives, so there is no awk in it.
out=$1; shift
start=$(date +%s%N)
"$@" > "$out" 2>&1 || true
end=$(date +%s%N)
# `times`' second line: the children's user and system time, "0m0.012s 0m0.004s".
# (Written to a file: in a pipe or $(...) `times` would run in a subshell.)
times > "$out.times"
{ read -r _ _; read -r cu cs; } < "$out.times"
ms() { [[ $1 =~ ^([0-9]+)m([0-9]+)\.([0-9]+)s$ ]] && echo $(( (${BASH_REMATCH[1]} * 60 + 10#${BASH_REMATCH[2]}) * 1000 + 10#${BASH_REMATCH[3]} )); }
echo "$(( (end - start) / 1000000 )) $(( $(ms "$cu") + $(ms "$cs") ))"
EOF
chmod +x "$work/measure.sh"

cat > "$work/runner.sh" <<EOF
#!/bin/bash
# Runs after multi-user.target is reached (every planted unit started): the
# boot is done but for this unit, so is-system-running would say "starting".
exec 2> /out/runner.err
systemctl list-units --all --no-legend | wc -l > /out/unit_count
for r in \$(seq $RUNS); do
  /measure.sh /out/mamori.txt /mamori-bin check -c /cfg.yaml --json >> /out/mamori.times
  /measure.sh /out/systemctl.txt systemctl list-units --failed --no-pager >> /out/systemctl.times
done
systemctl poweroff --no-block
EOF
chmod +x "$work/runner.sh"
printf '[Unit]\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/runner.sh\n[Install]\nWantedBy=multi-user.target\n' \
  > "$units/runner.service"
ln -s ../runner.service "$units/multi-user.target.wants/runner.service"

timeout 600 systemd-nspawn --quiet --register=no --keep-unit -D / --volatile=yes \
  --bind-ro="$units:/etc/systemd/system" --bind="$work/out:/out" \
  --bind-ro="$MAMORI:/mamori-bin" --bind-ro="$work/cfg.yaml:/cfg.yaml" \
  --bind-ro="$work/measure.sh:/measure.sh" --bind-ro="$work/runner.sh:/runner.sh" \
  --boot systemd.firstboot=off >"$work/nspawn.log" 2>&1 || true

if [[ ! -s $work/out/mamori.times ]]; then
  echo "host_scan.sh: the container produced no figures; the runner said:" >&2
  cat "$work/out/runner.err" >&2 2>/dev/null || echo "(nothing: it did not run)" >&2
  echo "nspawn said:" >&2
  tail -20 "$work/nspawn.log" >&2
  exit 1
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mw=$(cut -d' ' -f1 "$work/out/mamori.times" | median)
mc=$(cut -d' ' -f2 "$work/out/mamori.times" | median)
sw=$(cut -d' ' -f1 "$work/out/systemctl.times" | median)
sc=$(cut -d' ' -f2 "$work/out/systemctl.times" | median)
echo "units loaded in the container: $(cat "$work/out/unit_count")"
echo "runs: $RUNS each, interleaved"
printf '%-44s %10s %10s\n' contender "wall ms" "cpu ms"
printf '%-44s %10s %10s\n' "mamori check (6 host checks)" "$mw" "$mc"
printf '%-44s %10s %10s\n' "systemctl list-units --failed" "$sw" "$sc"
awk -v a="$mw" -v b="$sw" -v c="$mc" -v d="$sc" \
  'BEGIN { printf "ratio mamori/systemctl: wall %.2fx, cpu %.2fx\n", a / b, (d > 0 ? c / d : 0) }'
echo "mamori's findings (last run):"
head -c 2000 "$work/out/mamori.txt"; echo
