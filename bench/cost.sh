#!/usr/bin/env bash
# bench/cost.sh BUILD_DIR: the seed's workload, cost per 1,000 files, against the
# seed's published figures (docs/cost.md).
#
# Input: FB_COST_FILES (default 100) files of the seed's 319,207-row test-data1.csv
# (31 copies of examples/seed/test-data1-small.csv; hard links of one file, so the
# disk holds 38.6 MB). Runs `forestbatch run --workers N --format seed --header yes`
# (the seed's output) with --price-per-vcpu-hour FB_COST_PRICE (default 0.02, an
# example Spot price per vCPU-hour, not fetched), then prints the seed's published
# row (10 workers x 2 vCPU, 100 files in 1m 4s) and forestbatch's measured one, as
# vCPU-seconds per file (reserved: vCPUs x wall time; used: user + system time of
# the workers) and cost per 1,000 files at the same price.
set -euo pipefail
build=$(cd "${1:?usage: bench/cost.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
n=${FB_COST_FILES:-100}
workers=${FB_COST_WORKERS:-$(nproc)}
price=${FB_COST_PRICE:-0.02}
fb="$build/forestbatch"
work="$root/bench/out/cost"
one="$root/bench/data/seed/test-data1.csv"

mkdir -p "$(dirname "$one")"
if [[ ! -s $one ]]; then
  for _ in $(seq 31); do cat "$root/examples/seed/test-data1-small.csv"; done > "$one.tmp"
  mv "$one.tmp" "$one"
fi
rm -rf "$work"
mkdir -p "$work/input"
for i in $(seq 1 "$n"); do ln "$one" "$work/input/test-data$i.csv" 2>/dev/null || cp "$one" "$work/input/test-data$i.csv"; done
cat "$one" > /dev/null  # from the page cache, as in bench/run_seed_job.sh

t0=$(date +%s.%N)
"$fb" run --model "$root/examples/seed/model.joblib" --input "$work/input" --output "$work/out" \
  --workers "$workers" --state "$work/state" --progress none --format seed --header yes \
  --price-per-vcpu-hour "$price" --json > "$work/status.json"
t1=$(date +%s.%N)

/usr/bin/python3 - "$work/status.json" "$n" "$workers" "$price" "$t0" "$t1" "$(nproc)" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
n, workers, price = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
wall = float(sys.argv[6]) - float(sys.argv[5])
vcpus = int(sys.argv[7])
assert st["state"] == "succeeded" and st["files"]["done"] == n, st["files"]
used = st["cost"]["vcpu_seconds"]
# The seed's Table 1: 10 workers x 2 vCPU, 100 files in 1m 4s (94 files per minute).
seed_vcpus, seed_files, seed_s = 20, 100, 64.0
rows = [
    ("seed (published: 10 workers x 2 vCPU)", seed_vcpus, seed_files, seed_s, seed_vcpus * seed_s / seed_files, None),
    (f"forestbatch ({workers} workers on {vcpus} vCPU)", vcpus, n, wall, vcpus * wall / n, used / n),
]
def per_k(v):
    return v / 3600 * price * 1000
print(f"price: {price} per vCPU-hour (example, not fetched); files: the seed's 319,207-row test-data1.csv")
head = ("job", "vCPU", "files", "total time", "files per minute", "reserved vCPU-s per file",
        "used vCPU-s per file", f"cost per 1,000 files (reserved)")
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---" for _ in head) + "|")
for name, v, f, s, res, use in rows:
    print(f"| {name} | {v} | {f} | {s:.1f} s | {f / s * 60:.0f} | {res:.3f} | "
          f"{'-' if use is None else f'{use:.3f}'} | {per_k(res):.4f} |")
print(f"forestbatch: {used:.1f} vCPU-seconds used (workers' user + system time) in {wall:.1f} s; "
      f"cost per 1,000 files on used time {per_k(used / n):.4f}; "
      f"{(seed_vcpus * seed_s / seed_files) / (vcpus * wall / n):.0f}x less reserved vCPU time per file than the seed")
PY
