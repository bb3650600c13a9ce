#!/usr/bin/env bash
# make_seed_data.sh DIR [N]: writes the seed's benchmark input, N copies (default 1)
# of test-data1.csv (31 copies of examples/seed/test-data1-small.csv, the 10,297-row
# test split: 319,207 rows, 38.6 MB, no header) as DIR/test-data1.csv .. DIR/test-dataN.csv.
set -euo pipefail
dir=${1:?usage: make_seed_data.sh DIR [N]}
n=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
one="$dir/test-data1.csv"
if [[ ! -s $one ]]; then
  for _ in $(seq 31); do cat "$here/../examples/seed/test-data1-small.csv"; done >"$one.tmp"
  mv "$one.tmp" "$one"
fi
for i in $(seq 2 "$n"); do
  [[ -s $dir/test-data$i.csv ]] || cp "$one" "$dir/test-data$i.csv"
done
echo "$dir: $n file(s) of $(wc -l <"$one") rows"
