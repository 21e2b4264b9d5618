#!/usr/bin/env bash
# Installs what is missing, builds mamori and runs its main job on the embedded
# default, with no configuration at all: `mamori doctor` prints this machine's
# table, then (on a terminal) the zero-configuration daemon runs in the
# foreground with its dashboard on http://127.0.0.1:8470/ until Ctrl-C.
# Not on a terminal (a script, CI), it stops after the table and exits with
# the doctor's status. Extra arguments go to `mamori doctor` (try --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh build
status=0
build/mamori doctor "$@" || status=$?
if [[ ! -t 0 || ! -t 1 || $# -gt 0 ]]; then exit "$status"; fi
listen=${MAMORI_LISTEN:-127.0.0.1:8470}
echo
echo "dashboard: http://$listen/ (Ctrl-C stops)"
exec build/mamori run --listen "$listen"
