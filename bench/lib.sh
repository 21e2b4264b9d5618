# Helpers the bench/*.sh scripts source (not run by itself). They expect
# `work` (a temporary directory) and `pids` (processes to stop on exit).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {  # URL PATTERN SECONDS
  local deadline=$((SECONDS + $3)) body
  # Not `curl | grep -q`: grep exiting early fails curl, and pipefail the script.
  until body=$(curl -fsS "$1" 2>/dev/null) && [[ $body == *"$2"* ]]; do
    ((SECONDS < deadline)) || { echo "$(basename "$0"): $1 never showed '$2'" >&2; exit 1; }
    sleep 0.2
  done
}

# prometheus-blackbox-exporter with a one-module config on a free port of
# 127.0.0.1; sets bport once its /metrics answers.
start_blackbox() {
  bport=$(free_port)
  printf 'modules:\n  http_2xx:\n    prober: http\n' >"$work/blackbox.yml"
  prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
    --web.listen-address="127.0.0.1:$bport" >"$work/blackbox.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$bport/metrics" "blackbox_exporter_build_info" 30
}

# A config of N file checks named site-0.. (on /etc/hostname) at INTERVAL.
file_checks_config() {  # DATA_DIR PORT N INTERVAL
  echo "data_dir: $1"
  echo "listen: 127.0.0.1:$2"
  echo "defaults: {interval: $4, timeout: 5s}"
  echo "checks:"
  for ((i = 0; i < $3; i++)); do
    echo "  - {name: site-$i, type: file, path: /etc/hostname}"
  done
}
