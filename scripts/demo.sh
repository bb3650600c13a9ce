#!/usr/bin/env bash
# demo.sh FORESTBATCH: runs the seed workload on the bundled sample
# (examples/seed: the seed's scikit-learn model and its 10,297-row test split)
# and shows the result: first lines, rows per class, time. Called by `make demo`.
set -euo pipefail
fb=${1:?usage: scripts/demo.sh path/to/forestbatch}
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
