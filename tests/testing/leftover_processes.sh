#!/usr/bin/env bash
# The suite's last test (CTest FIXTURES_CLEANUP, so it runs after every other
# test, with -j too): fails when a process the suite started is still running.
# CTest gives every test MAMORI_TEST_CHILD=<build dir>, and everything a test
# starts inherits it (the server fixtures set it too), so a leftover is any
# process whose environment carries that exact value. Processes of other
# builds on the same machine carry another value and are left alone.
# Leftovers are listed and then killed, so one bad run does not leak into the
# next.
#   leftover_processes.sh BUILD_DIR
set -uo pipefail
marker="MAMORI_TEST_CHILD=${1:?usage: leftover_processes.sh BUILD_DIR}"

leftovers() {
  # grep runs without the marker in its own environment, so it never finds
  # itself; unreadable or vanished entries are skipped.
  grep -lzxF -- "$marker" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# A process being stopped (or the per-test reaper finishing) may need a
# moment to go: allow 5 s before calling it a leftover.
end=$((SECONDS + 5))
while true; do
  pids=$(leftovers)
  [[ -z "$pids" ]] && { echo "no process started by the suite is left running"; exit 0; }
  ((SECONDS < end)) || break
  sleep 0.2
done
echo "processes started by the test suite are still running:" >&2
# shellcheck disable=SC2086
ps -o pid,ppid,etime,args -p "$(echo $pids | tr ' ' ',')" >&2
# shellcheck disable=SC2086
kill -KILL $pids 2>/dev/null
exit 1
