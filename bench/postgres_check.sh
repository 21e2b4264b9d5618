#!/bin/sh
# The cost of one `postgres` check run against a real PostgreSQL primary with
# one streaming standby (both started here in a temporary directory on
# loopback ports, as the postgres user), next to `psql -c 'select 1'` and the
# monitoring-plugins' check_pgsql (connect and run one query) when installed.
# Each contender runs REPEATS times, interleaved. For mamori: the runner's
# duration_ms (connect + every query + judgment, without the process start),
# the wall time of the whole `mamori check` process, and the statements sent
# (the check's `queries` metric); for the others: the process wall time.
# Then connection reuse: the daemon runs two checks on the primary every
# second for REPEATS seconds, one keeping its connection (the default) and one
# with keep_connection: false, and their duration_us are read from the store.
# Needs root (the servers run as the postgres user).
#   bench/postgres_check.sh [MAMORI] [REPEATS]
set -eu
MAMORI=$(realpath "${1:-build/mamori}")
REPEATS=${2:-20}
BIN=/usr/lib/postgresql/15/bin
dir=$(mktemp -d)
chown postgres "$dir"
cleanup() {
  for d in standby primary; do
    [ -f "$dir/$d/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$dir/$d" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(port)
P2=$(port)
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$BIN/initdb" -D "$dir/primary" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
as_pg "$BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w \
  -o "-p $P1 -h 127.0.0.1 -k $dir -c fsync=off" start >/dev/null
as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$dir/standby" -R \
  --checkpoint=fast -X stream --no-sync
as_pg "$BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w \
  -o "-p $P2 -h 127.0.0.1 -k $dir -c cluster_name=db2" start >/dev/null
DSN="host=127.0.0.1 port=$P1 user=postgres dbname=postgres"
cat >"$dir/pg.yaml" <<YAML
data_dir: $dir/data
checks:
  - {name: primary, type: postgres, dsn: "$DSN"}
  - {name: standby, type: postgres, dsn: "host=127.0.0.1 port=$P2 user=postgres dbname=postgres"}
YAML
PLUGIN=/usr/lib/nagios/plugins/check_pgsql
i=0
while [ "$i" -lt "$REPEATS" ]; do
  t0=$(date +%s%N)
  "$MAMORI" check -c "$dir/pg.yaml" --json --only primary >>"$dir/runs.json" || true
  t1=$(date +%s%N)
  psql -X -q -d "$DSN" -c 'select 1' >/dev/null
  t2=$(date +%s%N)
  if [ -x "$PLUGIN" ]; then
    "$PLUGIN" -H 127.0.0.1 -P "$P1" -l postgres -d postgres -q 'select 1' >/dev/null || true
  fi
  t3=$(date +%s%N)
  "$MAMORI" check -c "$dir/pg.yaml" --json --only standby >>"$dir/runs.json" || true
  echo "$(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 )) $(( (t3 - t2) / 1000 ))" >>"$dir/wall.txt"
  i=$((i + 1))
done
python3 - "$dir/runs.json" "$dir/wall.txt" "$([ -x "$PLUGIN" ] && echo 1 || echo 0)" <<'PY'
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
def line(name, ms, extra=""):
    ms = sorted(ms)
    print(f"{name}: {len(ms)} runs, min {ms[0]:.2f} ms, median {statistics.median(ms):.2f} ms, "
          f"max {ms[-1]:.2f} ms{extra}")
for name in ("primary", "standby"):
    mine = [r for r in rows if r["name"] == name]
    q = {r["metrics"].get("queries") for r in mine}
    st = {r["status"] for r in mine}
    line(f"mamori postgres check on the {name} (duration_ms)", [r["duration_ms"] for r in mine],
         f", queries per run {sorted(q)}, status {sorted(st)}")
wall = [list(map(int, l.split())) for l in open(sys.argv[2])]
line("mamori check process, primary (wall)", [w[0] / 1000 for w in wall])
line("psql -c 'select 1' (wall)", [w[1] / 1000 for w in wall], ", 1 query")
if sys.argv[3] == "1":
    line("check_pgsql -q 'select 1' (wall)", [w[2] / 1000 for w in wall], ", 1 query")
else:
    print("check_pgsql: not installed (monitoring-plugins-basic)")
PY
cat >"$dir/reuse.yaml" <<YAML
data_dir: $dir/reuse
checks:
  - {name: kept, type: postgres, dsn: "$DSN", interval: 1s}
  - {name: fresh, type: postgres, dsn: "$DSN", interval: 1s, keep_connection: false}
YAML
"$MAMORI" run -c "$dir/reuse.yaml" --log-level warn &
daemon=$!
sleep $((REPEATS + 2))
kill -TERM "$daemon"
wait "$daemon" || true
python3 - "$dir/reuse/mamori.db" <<'PY'
import json, sqlite3, statistics, sys
db = sqlite3.connect(sys.argv[1])
for name in ("kept", "fresh"):
    rows = db.execute("SELECT o.duration_us, o.metrics FROM observations o JOIN checks c "
                      "ON c.id = o.check_id WHERE c.name = ? ORDER BY o.ts_ms", (name,)).fetchall()
    ms = sorted(r[0] / 1000 for r in rows)
    reused = sum(1 for r in rows if r[1] and json.loads(r[1]).get("connection_reused") == 1)
    print(f"daemon, {name} connection: {len(ms)} runs ({reused} on a kept connection), "
          f"min {ms[0]:.2f} ms, median {statistics.median(ms):.2f} ms, max {ms[-1]:.2f} ms")
PY
