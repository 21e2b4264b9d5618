#!/usr/bin/env bash
# `mamori logs scan` with the whole knowledge base against GNU grep with 40
# patterns, start-up included, side by side in one run (issue 18, item 4),
# plus `mamori logs scan` start-up with and without the compiled-signature
# cache (hyperfine).
#
#   bench/logs_scan_vs_grep.sh                 # ~141 MB input, 5 runs each
#   SIZE_MB=50 RUNS=3 bench/logs_scan_vs_grep.sh
#   MAMORI=build-rel/mamori bench/logs_scan_vs_grep.sh
#
# Input: every *_2k.log of the Loghub samples (../shared/loghub beside the
# repository, or LOGHUB=DIR) concatenated and repeated up to SIZE_MB, in WORK
# (default /tmp/mamori-scan-vs-grep), never in the repository. grep's output
# goes to a FILE: GNU grep stops at the first match when its output is
# /dev/null, which would make it look faster than it is. mamori runs with a
# warm cache (the usual case from the second run on); its cold start is
# measured separately below. Prints a markdown section for
# bench/RESULTS-logs.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mamori=${MAMORI:-$root/build/mamori}
loghub=${LOGHUB:-$root/../shared/loghub}
work=${WORK:-/tmp/mamori-scan-vs-grep}
size_mb=${SIZE_MB:-141}
runs=${RUNS:-5}
npat=${GREP_PATTERNS:-40}

[[ -x "$mamori" ]] || { echo "no mamori binary at $mamori (set MAMORI)" >&2; exit 2; }
[[ -d "$loghub" ]] || { echo "no Loghub samples at $loghub (set LOGHUB)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine missing" >&2; exit 2; }
mkdir -p "$work"
input=$work/input.log
cache=$work/cache
want=$((size_mb * 1024 * 1024))
if [[ ! -f "$input" ]] || (( $(stat -c %s "$input") < want )); then
  cat "$loghub"/*/*_2k.log > "$work/one.log"
  : > "$input"
  while (( $(stat -c %s "$input") < want )); do cat "$work/one.log" >> "$input"; done
fi
bytes=$(stat -c %s "$input")
lines=$(wc -l < "$input")
"$mamori" logs scan --export-patterns > "$work/all-patterns.txt"
total=$(wc -l < "$work/all-patterns.txt")
# 40 patterns spread over the whole knowledge base (every Nth).
step=$(( total / npat )); (( step >= 1 )) || step=1
awk -v s="$step" 'NR % s == 1' "$work/all-patterns.txt" | head -n "$npat" > "$work/patterns.txt"
nsig=$(grep -c '^  - id:' rules/*.yaml | awk -F: '{s += $2} END {print s}')

now() { date +%s.%N; }
# Median of the samples on stdin.
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

cat "$input" > /dev/null  # page cache warm for both
"$mamori" logs scan --count --cache-dir "$cache" "$input" > /dev/null || true  # fills the cache
# Wall clock, and CPU time (user + sys), which other people's load on a
# shared machine disturbs less.
timed() {  # OUTPUT_FILE COMMAND...
  local s e out=$1
  shift
  s=$(now)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" > "$out" 2>/dev/null || true
  e=$(now)
  # time(1) puts "Command exited with non-zero status N" first when it did
  # (mamori exits 1 or 2 when warnings or critical lines matched).
  echo "$(echo "$e - $s" | bc -l) $(tail -n 1 "$work/cpu" | awk '{print $1 + $2}')"
}
tg=() tm=() cg=() cm=()
for _ in $(seq "$runs"); do  # interleaved: both see the same machine load
  read -r w c < <(timed "$work/grep.out" env LC_ALL=C grep -c -E -f "$work/patterns.txt" "$input")
  tg+=("$w") cg+=("$c")
  read -r w c < <(timed "$work/mamori.out" "$mamori" logs scan --count --cache-dir "$cache" "$input")
  tm+=("$w") cm+=("$c")
done
g=$(printf '%s\n' "${tg[@]}" | median)
m=$(printf '%s\n' "${tm[@]}" | median)
gc=$(printf '%s\n' "${cg[@]}" | median)
mc=$(printf '%s\n' "${cm[@]}" | median)
ratio=$(echo "$g / $m" | bc -l)

# Start-up: a 20-line file, so the time is loading the rules and the database.
head -n 20 "$work/one.log" > "$work/small.log"
hyperfine -N --warmup 2 --runs 15 --export-json "$work/startup.json" \
  -n "no cache (compiles)" "$mamori logs scan --count --cache-dir '' $work/small.log" \
  -n "cache warm" "$mamori logs scan --count --cache-dir $cache $work/small.log" > "$work/hyperfine.txt"
startup=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print("| %s | %.1f | %.1f | %.1f | %.1f |" % (x["command"], x["median"] * 1000, x["min"] * 1000,
                                              x["max"] * 1000, (x["user"] + x["system"]) * 1000))
' "$work/startup.json")

cat <<EOT
### mamori logs scan (full knowledge base) vs grep with $npat patterns, start-up included

\`bench/logs_scan_vs_grep.sh\` (SIZE_MB=$size_mb RUNS=$runs): the Loghub 2k samples repeated to
$((bytes / 1024 / 1024)) MiB ($lines lines), page cache warm, wall clock, median of $runs
interleaved runs, load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores.

| tool | patterns | wall s (median) | lines/s (wall) | CPU s (median) |
| --- | ---: | ---: | ---: | ---: |
| \`LC_ALL=C grep -c -E -f patterns.txt input > file\` | $npat | $(printf %.3f "$g") | $(printf %.0f "$(echo "$lines / $g" | bc -l)") | $(printf %.2f "$gc") |
| \`mamori logs scan --count input\` (cache warm) | $total ($nsig signatures) | $(printf %.3f "$m") | $(printf %.0f "$(echo "$lines / $m" | bc -l)") | $(printf %.2f "$mc") |

grep / mamori: $(printf %.2f "$ratio")x wall clock, $(printf %.2f "$(echo "$gc / $mc" | bc -l)")x CPU time (above 1: mamori is faster).
grep matched $(cat "$work/grep.out") lines; mamori: $(tail -n 1 "$work/mamori.out").

Start-up, \`mamori logs scan --count\` on a 20-line file (hyperfine, 15 runs, ms):

| | wall median | wall min | wall max | CPU (user+sys, mean) |
| --- | ---: | ---: | ---: | ---: |
$startup
EOT
