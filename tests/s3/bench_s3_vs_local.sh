#!/usr/bin/env bash
# The seed workload from and to S3 (s3rver on loopback) against the same on
# local disk. Not a test (it is timed); run by hand:
#   tests/s3/with_s3rver.sh build/npm tests/s3/bench_s3_vs_local.sh build/forestbatch [FILES] [COMMAND]
# FILES copies of the seed's test-data1.csv (31 x test-data1-small.csv, 319,207
# rows, 38.6 MB each; the seed's benchmark uses 100), COMMAND predict (default) or run.
set -euo pipefail
fb=$(realpath "$1")
n=${2:-8}
cmd=${3:-predict}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fb-s3-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --only-show-errors "$@"; }
b="s3://$FB_TEST_S3_BUCKET"
mkdir -p "$work/in"
for _ in $(seq 31); do cat "$src/examples/seed/test-data1-small.csv"; done > "$work/test-data1.csv"
for i in $(seq -w 1 "$n"); do cp "$work/test-data1.csv" "$work/in/part-$i.csv"; done
rm "$work/test-data1.csv"
aws s3 cp --recursive "$work/in" "$b/in/"
aws s3 cp "$src/examples/seed/model.joblib" "$b/model.joblib"
sync
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
local_s=$(t "$fb" "$cmd" --model "$src/examples/seed/model.joblib" --input "$work/in/" --output "$work/out/" --format seed)
s3_s=$(t "$fb" "$cmd" --model "$b/model.joblib" --input "$b/in/" --output "$b/out/" --format seed)
local2_s=$(t "$fb" "$cmd" --model "$src/examples/seed/model.joblib" --input "$work/in/" --output "$work/out2/" --format seed)
s3b_s=$(t "$fb" "$cmd" --model "$b/model.joblib" --input "$b/in/" --output "$b/out2/" --format seed)
echo "files=$n ($(du -sh "$work/in" | cut -f1)) command=$cmd"
echo "local disk: ${local_s}s, ${local2_s}s"
echo "s3 (s3rver on 127.0.0.1): ${s3_s}s, ${s3b_s}s"
