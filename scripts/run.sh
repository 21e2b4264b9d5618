#!/usr/bin/env bash
# Installs what is missing, builds mamori and runs its main job on the embedded
# default: `mamori doctor` checks this machine with no configuration at all.
# Extra arguments go to `mamori doctor` (try --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh build
exec build/mamori doctor "$@"
