#!/usr/bin/env bash
# Backup verification throughput: `mamori backup verify` side by side with
# `gzip -t`, `zstd -t` and `sha256sum` on the same >= 1 GiB files, in one run.
#
#   bench/backup_verify.sh                 # 1.1 GiB dump, 3 runs each, medians
#   SIZE_MB=2048 RUNS=5 bench/backup_verify.sh
#   BUILD_DIR=build-release bench/backup_verify.sh
#
# The input is a generated pg_dump-like plain SQL file (header, COPY blocks
# of varied rows, trailer), compressed with gzip -6 and zstd -3 (the tools'
# defaults). Caches cannot be dropped without privileges we do not assume,
# so every file is read once before timing and all runs are warm-cache
# (CPU-bound) for every contender alike. Files go to WORK_DIR (default a
# fresh directory under /var/tmp), removed on exit unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
size_mb=${SIZE_MB:-1100}
runs=${RUNS:-3}
mamori="$build_dir/mamori"
[[ -x "$mamori" ]] || { echo "backup_verify.sh: build $mamori first (ninja -C $build_dir mamori)" >&2; exit 2; }
work=${WORK_DIR:-$(mktemp -d /var/tmp/mamori-bench-backup.XXXXXX)}
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$work"' EXIT

exec python3 - "$mamori" "$work" "$size_mb" "$runs" <<'PY'
import os, random, statistics, subprocess, sys, time

mamori, work, size_mb, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
plain = os.path.join(work, "dump.sql")

def log(*a):
    print(*a, file=sys.stderr, flush=True)

if not os.path.exists(plain):
    log(f"generating {size_mb} MiB of pg_dump-like SQL in {plain}")
    rnd = random.Random(42)
    words = ["alpha", "beta", "gamma", "delta", "shop", "order", "user", "paid", "open",
             "shipped", "berlin", "tokyo", "lisbon", "oslo", "n/a", "\\N"]
    # 8 MiB of rows, then variants of it (ids shifted) so the stream is not a
    # short repetition any compressor could shortcut.
    rows = []
    n = 0
    while n < 8 << 20:
        r = f"{rnd.randrange(10**9)}\t{rnd.choice(words)} {rnd.choice(words)}\t{rnd.random()*1000:.2f}\t2026-{rnd.randrange(1,13):02}-{rnd.randrange(1,29):02} {rnd.randrange(24):02}:{rnd.randrange(60):02}:00+00\t{rnd.getrandbits(64):016x}\n"
        rows.append(r)
        n += len(r)
    block = "".join(rows)
    with open(plain, "w") as f:
        f.write("--\n-- PostgreSQL database dump\n--\n\n\\restrict benchkey\n\n"
                "-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n"
                "-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)\n\n")
        written, i = 0, 0
        while written < size_mb << 20:
            f.write(f"COPY public.t{i} (id, name, amount, at, token) FROM stdin;\n")
            chunk = block.replace("\t2026-", f"\t{2000 + i % 27}-")
            f.write(chunk)
            f.write("\\.\n\n")
            written += len(chunk)
            i += 1
        f.write("--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict benchkey\n\n")
    log("compressing with gzip -6 and zstd -3")
    subprocess.run(f"gzip -6 -k -c {plain} > {plain}.gz", shell=True, check=True)
    subprocess.run(["zstd", "-q", "-3", "-T1", "-k", "-f", plain, "-o", plain + ".zst"], check=True)

def warm(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass

def timed(argv, ok_codes=(0,)):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode not in ok_codes:
        sys.exit(f"{argv} exited {p.returncode}: {p.stdout.decode()} {p.stderr.decode()}")
    return dt, p.stdout.decode()

pairs = [
    ("gzip", plain + ".gz", ["gzip", "-t", plain + ".gz"],
     [mamori, "backup", "verify", plain + ".gz"]),
    ("zstd", plain + ".zst", ["zstd", "-q", "-t", plain + ".zst"],
     [mamori, "backup", "verify", plain + ".zst"]),
    ("sha256", plain, ["sha256sum", plain],
     [mamori, "backup", "verify", "--sha256", plain]),
]
results = []
for name, path, tool, ours in pairs:
    warm(path)
    tool_t, ours_t = [], []
    out = ""
    for _ in range(runs):  # interleaved so drift hits both alike
        tool_t.append(timed(tool)[0])
        dt, out = timed(ours)
        ours_t.append(dt)
    size = os.path.getsize(path)
    tm, om = statistics.median(tool_t), statistics.median(ours_t)
    results.append((name, path, size, tm, om, out.strip().splitlines()[0]))
    log(f"{name}: tool {tm:.2f}s  mamori {om:.2f}s")

usize = os.path.getsize(plain)
print(f"input: {usize / 2**30:.2f} GiB plain SQL; runs per contender: {runs} (median); warm cache")
print()
print("| check | file | size | reference | reference s | mamori s | mamori speed vs reference |")
print("|---|---|---|---|---|---|---|")
labels = {"gzip": "gzip -t", "zstd": "zstd -t", "sha256": "sha256sum"}
for (name, path, size, tm, om, out) in results:
    print(f"| {name} | {os.path.basename(path)} | {size / 2**20:.0f} MiB | `{labels[name]}` "
          f"| {tm:.2f} | {om:.2f} | {100 * tm / om:.0f}% |")
print()
for r in results:
    print(f"- `{r[5]}`")
PY
