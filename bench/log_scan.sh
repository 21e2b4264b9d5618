#!/usr/bin/env bash
# Signature scanning benchmark: `mamori logs scan --count` against
# `LC_ALL=C grep -c -E -f` with the same patterns (exported from the
# knowledge base) over the same file, and against fail2ban-regex with one rule
# on a slice of it. Same input, same run, median of REPEATS wall-clock runs.
#
#   bench/log_scan.sh                      # ~500 MB input, 3 repeats
#   SIZE_MB=100 REPEATS=1 bench/log_scan.sh
#   MAMORI=build-release/mamori bench/log_scan.sh
#
# The input is the 16 Loghub 2k samples (../shared/loghub beside the
# repository, or LOGHUB=DIR) concatenated and repeated up to SIZE_MB, written
# to WORK (default /tmp/mamori-log-scan) and never to the repository. It
# prints a markdown section ready to append to bench/RESULTS-logs.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mamori=${MAMORI:-$root/build/mamori}
loghub=${LOGHUB:-$root/../shared/loghub}
work=${WORK:-/tmp/mamori-log-scan}
size_mb=${SIZE_MB:-500}
repeats=${REPEATS:-3}
f2b_lines=${F2B_LINES:-100000}

[[ -x "$mamori" ]] || { echo "log_scan.sh: no mamori binary at $mamori (set MAMORI)" >&2; exit 2; }
[[ -d "$loghub" ]] || { echo "log_scan.sh: no Loghub samples at $loghub (set LOGHUB)" >&2; exit 2; }
command -v fail2ban-regex >/dev/null || { echo "log_scan.sh: fail2ban-regex missing (scripts/bootstrap.sh --bench)" >&2; exit 2; }
mkdir -p "$work"
input=$work/input.log
patterns=$work/patterns.txt

# Input: whole copies of the samples until SIZE_MB is reached.
want=$((size_mb * 1024 * 1024))
if [[ ! -f "$input" ]] || (( $(stat -c %s "$input") < want )); then
  cat "$loghub"/*/*_2k.log > "$work/one.log"
  : > "$input"
  while (( $(stat -c %s "$input") < want )); do cat "$work/one.log" >> "$input"; done
fi
bytes=$(stat -c %s "$input")
lines=$(wc -l < "$input")
"$mamori" logs scan --export-patterns > "$patterns"
npat=$(wc -l < "$patterns")
nsig=$(grep -c '^  - id:' rules/*.yaml | awk -F: '{s += $2} END {print s}')

# Median wall-clock seconds of REPEATS runs of "$@" (output to $work/out).
median() {
  local t=()
  for _ in $(seq "$repeats"); do
    local s e
    s=$(date +%s.%N)
    "$@" > "$work/out" 2>&1 || true
    e=$(date +%s.%N)
    t+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

cat "$input" > /dev/null  # warm the page cache for everyone
t_grep=$(median env LC_ALL=C grep -c -E -f "$patterns" "$input")
grep_count=$(cat "$work/out")
t_mamori=$(median "$mamori" logs scan --count "$input")
mamori_matched=$(tail -n 1 "$work/out" | sed -n 's/.* \([0-9]*\) matched.*/\1/p')

# fail2ban: one sshd rule on a slice (it runs at thousands of lines/s).
head -n "$f2b_lines" "$input" > "$work/slice.log"
f2b_rule='Failed password for (?:invalid user )?\S+ from <HOST> port \d+'
t_f2b=$(median fail2ban-regex "$work/slice.log" "$f2b_rule")

rate() { echo "$1 / $2" | bc -l; }
r_grep=$(rate "$lines" "$t_grep")
r_mamori=$(rate "$lines" "$t_mamori")
r_f2b=$(rate "$f2b_lines" "$t_f2b")

cat <<EOT

## Signature scanning

\`mamori logs scan --count\` over the ${nsig} signatures (${npat} patterns) of
rules/, against GNU grep with the same patterns exported in ERE form
(\`mamori logs scan --export-patterns\`) and fail2ban-regex with a single sshd
rule. Input: the 16 Loghub 2k samples repeated to $((bytes / 1048576)) MiB
(${lines} lines), page cache warm, wall clock, median of ${repeats}, same run,
on $(nproc) shared cores. Produced by \`bench/log_scan.sh\` (SIZE_MB=${size_mb}).

| tool | lines | seconds | lines/s | MB/s | says which signature |
| --- | ---: | ---: | ---: | ---: | --- |
| \`LC_ALL=C grep -c -E -f patterns.txt\` | ${lines} | $(printf %.3f "$t_grep") | $(printf %.0f "$r_grep") | $(printf %.0f "$(rate "$bytes / 1000000" "$t_grep")") | no (one count) |
| \`mamori logs scan --count\` | ${lines} | $(printf %.3f "$t_mamori") | $(printf %.0f "$r_mamori") | $(printf %.0f "$(rate "$bytes / 1000000" "$t_mamori")") | yes (count per signature) |
| \`fail2ban-regex\` (1 rule, slice) | ${f2b_lines} | $(printf %.3f "$t_f2b") | $(printf %.0f "$r_f2b") | - | one rule only |

- mamori / grep: $(printf %.2f "$(rate "$r_mamori" "$r_grep")")x the lines/s (goal >= 1)
- mamori / fail2ban-regex: $(printf %.0f "$(rate "$r_mamori" "$r_f2b")")x the lines/s (goal >= 100)
- matched lines: grep ${grep_count}, mamori ${mamori_matched} (the same patterns; equal counts show both tools did the same work)
EOT
