#!/usr/bin/env bash
# Installs what mamori needs to build, test and benchmark, from Debian's archive.
# Idempotent and quiet: packages already present are skipped; apt runs only when
# something is missing. Run as root (or with sudo available).
#
#   scripts/bootstrap.sh          build + test dependencies
#   scripts/bootstrap.sh --bench  also the peers the benchmarks compare against
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config ninja-build lld
  libboost-dev libcurl4-openssl-dev libyaml-cpp-dev libsqlite3-dev
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev
  zlib1g-dev libzstd-dev libarchive-dev libssl-dev libhowardhinnant-date-dev
  libhyperscan-dev libsystemd-dev libpq-dev libmariadb-dev
)
# Real components the tests start on loopback.
test_pkgs=(
  tzdata nginx-light monitoring-plugins-basic monitoring-plugins-standard
  openssl procps python3 clang libclang-rt-14-dev dnsmasq-base
  python3-aiosmtpd prometheus-alertmanager
  postgresql mariadb-server mariadb-client zstd gzip tar
  chrony faketime curl systemd-container e2fsprogs
  systemd-journal-remote zsh
  dpkg-dev fakeroot lintian adduser
)
test_pkgs+=(chromium)  # tests/status_page_browser_test.cc renders /status in headless Chromium
test_pkgs+=(prometheus)  # promtool and a real Prometheus scraping /metrics (tests/metrics_test.cc)
bench_pkgs=(monit prometheus-blackbox-exporter wrk hyperfine fail2ban valgrind)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${bench_pkgs[@]}"); fi
# npm fetches the dashboard's pinned browser libraries (scripts/vendor.sh,
# assets/vendor.lock): Debian's, unless the machine already has one (a newer
# Node.js with its own npm would conflict with Debian's package).
if ! command -v npm >/dev/null 2>&1; then want+=(npm); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
(( ${#missing[@]} == 0 )) && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx after install; tests run their own nginx on loopback ports.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
# Likewise Prometheus: the tests start their own on loopback ports.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
