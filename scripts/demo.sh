#!/usr/bin/env bash
# demo.sh FORESTBATCH: runs the seed workload on the bundled sample
# (examples/seed: the seed's scikit-learn model and its 10,297-row test split)
# and shows the result: first lines, rows per class, time. Called by `make demo`.
set -euo pipefail
fb=${1:?usage: scripts/demo.sh path/to/forestbatch}
fb=$(cd "$(dirname "$fb")" && pwd)/$(basename "$fb")
here=$(cd "$(dirname "$0")/.." && pwd)
model=$here/examples/seed/model.joblib
input=$here/examples/seed/test-data1-small.csv
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== model"
"$fb" model inspect "$model" | sed 's/^/   /'
echo
echo "== predict: $(wc -l <"$input") rows x $(head -1 "$input" | tr ',' '\n' | wc -l) columns, no header"
echo "   \$ forestbatch predict --model examples/seed/model.joblib --input examples/seed/test-data1-small.csv \\"
echo "       --output predictions.csv --format seed"
start=$(date +%s%N)
"$fb" predict --model "$model" --input "$input" --output "$out/predictions.csv" --format seed 2>&1 | sed 's/^/   /'
end=$(date +%s%N)
echo
echo "== first lines of predictions.csv (the seed's layout: index,prediction)"
head -6 "$out/predictions.csv" | sed 's/^/   /'
echo "   ..."
echo
echo "== rows per predicted class"
tail -n +2 "$out/predictions.csv" | cut -d, -f2 | sort | uniq -c | awk '{printf "   class %s: %d rows\n", $2, $1}'
echo
echo "== whole command (model load, read, predict, write): $(((end - start) / 1000000)) ms"
echo
echo "== with probabilities (--proba), first lines"
"$fb" predict -q --model "$model" --input "$input" --output "$out/proba.csv" --proba
head -4 "$out/proba.csv" | sed 's/^/   /'
echo
echo "== the seed's array job on this machine: 12 input files (each 31 copies of the sample = the seed's"
echo "   319,207-row test-data1.csv), sharded across local workers, outputs written atomically"
mkdir -p "$out/input"
for _ in $(seq 31); do cat "$input"; done >"$out/input/test-data1.csv"
for i in $(seq 2 12); do cp "$out/input/test-data1.csv" "$out/input/test-data$i.csv"; done
echo "   \$ forestbatch run --model examples/seed/model.joblib --input input/ --output output/ --workers 2 --format seed"
(cd "$out" && "$fb" run --model "$model" --input input --output output --workers 2 --format seed --progress lines) 2>&1 |
  sed 's/^/   /'
echo
echo "== run it again: finished outputs are skipped (a resubmitted job resumes instead of starting over)"
(cd "$out" && "$fb" run --model "$model" --input input --output output --workers 2 --format seed --progress none) 2>&1 |
  tail -n 12 | sed 's/^/   /'
echo
echo "== job records: forestbatch jobs / status JOB [--json] / logs JOB (state in ./.forestbatch)"
(cd "$out" && "$fb" jobs) 2>&1 | sed 's/^/   /'
echo
# The dashboard over the demo's jobs, kept beside the binary so it can be opened after the demo.
keep=$(dirname "$fb")/demo
rm -rf "$keep"
mkdir -p "$keep"
cp -r "$out/.forestbatch" "$out/output" "$keep/"
(cd "$keep" && exec "$fb" serve --listen 127.0.0.1:0 >serve.out 2>&1) &
serve_pid=$!
for _ in $(seq 50); do grep -q 'http://' "$keep/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$keep/serve.out" | head -1)
echo "== the dashboard (forestbatch serve), checked on $url just now:"
/usr/bin/python3 - "$url" <<'PY' | sed 's/^/   /'
import json, sys, urllib.request
jobs = json.load(urllib.request.urlopen(sys.argv[1] + "api/jobs"))["jobs"]
for j in jobs:
    f = j["files"]
    print(f"{j['job']}: {j['state']}, {f['done'] + f['skipped']} of {f['total']} files, {j['rows']} rows, "
          f"{j['vcpu_seconds']:.1f} vCPU-seconds")
PY
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
rm -f "$keep/serve.out"
echo
echo "   Open it:  (cd $keep && $fb serve)   then http://127.0.0.1:8421/"
echo "   It shows the job list (state, files, rows, rate, duration, vCPU-seconds, cost with"
echo "   --price-per-vcpu-hour); per job: a live progress bar and ETA, throughput over time,"
echo "   which task did which file when, failures with their errors and task logs, and each"
echo "   file's manifest. docs/serve.md has the details and the security rules."
