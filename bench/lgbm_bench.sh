#!/usr/bin/env bash
# bench/lgbm_bench.sh LIGHTGBM BUILD_DIR DATA_DIR: LightGBM models (500 rounds of 31-leaf trees,
# binary, trained by LightGBM's own CLI on the seed's features and on 20 continuous features)
# predicted by forestbatch and by LightGBM's CLI on the same CSV, one thread each, in the same run.
# Prints result lines in bench/run.sh's format (see bench/report.py):
#   forestbatch-compiled-*   fb_kernel_bench: the kernel alone (float32 rows in memory);
#   forestbatch-predict-e2e  `forestbatch predict --threads 1` (read CSV, predict, write CSV);
#   lightgbm-cli-e2e         `lightgbm task=predict num_threads=1` (read CSV, predict, write);
#   *-per-tree               the same two commands' CPU time with all 500 rounds minus that with
#                            1 round (--iteration-range 0:1, num_iteration_predict=1), per row and
#                            extra tree: the prediction cost without parsing and writing.
# The fair comparison is CLI against CLI (both parse the same text and write every value), and
# best the per-tree line, which removes the two programs' different parsers and writers; the
# kernel line has no LightGBM counterpart (LightGBM's C API was not built). CPU time (user + sys
# from /usr/bin/time -v), best of 3, on the first BENCH_LGBM_ROWS rows (default 100000) of each input.
set -euo pipefail
lgbm=$1
build=$2
data=$3
root=$(cd "$(dirname "$0")/.." && pwd)
fb=$build/forestbatch
[[ -x $fb ]] || fb=$build/src/cli/forestbatch
kb=$build/bench/fb_kernel_bench
rows=${BENCH_LGBM_ROWS:-100000}
[[ -s $data/lgbm-cont.csv ]] || /usr/bin/python3 "$root/bench/make_lgbm_model.py" "$data" >&2
train() {  # csv model
  [[ -s $2 ]] || "$lgbm" task=train data="$1" header=false label_column=0 objective=binary num_leaves=31 \
    num_iterations=500 learning_rate=0.1 min_data_in_leaf=20 bagging_fraction=0.8 bagging_freq=1 \
    feature_fraction=0.8 seed=0 num_threads=2 verbosity=-1 output_model="$2" >&2
}
train "$data/lgbm-seed-train.csv" "$data/lgbm-seed-500x31.txt"
train "$data/lgbm-cont-train.csv" "$data/lgbm-cont-500x31.txt"

cpu_secs() {  # command...: best user+sys seconds of 3 runs
  best=""
  for _ in 1 2 3; do
    /usr/bin/time -v "$@" >/dev/null 2>"$data/lgbm-time.log"
    s=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$data/lgbm-time.log")
    best=$(awk -v a="$s" -v b="$best" 'BEGIN {print (b == "" || a < b) ? a : b}')
  done
  echo "$best"
}
line() {  # engine model rows trees cpu_seconds ns_per_row_tree
  printf '%s\t%s\t1\t%s\t%s\t%s\t-\t%s\t-\t-\t-\n' "$1" "$2" "$3" "$4" "$5" "$6"
}
for m in seed cont; do
  model=$data/lgbm-$m-500x31.txt
  src=$data/lgbm-cont.csv
  [[ $m == seed ]] && src=$data/seed/test-data1.csv
  csv=$data/lgbm-$m-predict-$rows.csv
  [[ -s $csv ]] || head -n "$rows" "$src" >"$csv"
  rows=$(wc -l <"$csv")
  "$kb" --model "$model" --x "$csv" --label "lgbm-$m" --threads 1,2 --min-time 1
  out=$data/lgbm-out
  fb_all=$(cpu_secs "$fb" predict -q --threads 1 --header no --model "$model" --input "$csv" --output "$out.csv")
  fb_one=$(cpu_secs "$fb" predict -q --threads 1 --header no --model "$model" --input "$csv" --output "$out.csv" \
    --iteration-range 0:1)
  lg_all=$(cpu_secs "$lgbm" task=predict num_threads=1 header=false input_model="$model" data="$csv" \
    output_result="$out.txt" verbosity=-1)
  lg_one=$(cpu_secs "$lgbm" task=predict num_threads=1 header=false input_model="$model" data="$csv" \
    output_result="$out.txt" verbosity=-1 num_iteration_predict=1)
  per_tree() { awk -v a="$1" -v b="$2" -v r="$rows" 'BEGIN {printf "%.3f", (a - b) * 1e9 / (r * 499)}'; }
  per_call() { awk -v a="$1" -v r="$rows" 'BEGIN {printf "%.3f", a * 1e9 / (r * 500)}'; }
  line forestbatch-predict-e2e "lgbm-$m" "$rows" 500 "$fb_all" "$(per_call "$fb_all")"
  line lightgbm-cli-e2e "lgbm-$m" "$rows" 500 "$lg_all" "$(per_call "$lg_all")"
  line forestbatch-predict-per-tree "lgbm-$m" "$rows" 499 "$(awk -v a="$fb_all" -v b="$fb_one" 'BEGIN {print a - b}')" \
    "$(per_tree "$fb_all" "$fb_one")"
  line lightgbm-cli-per-tree "lgbm-$m" "$rows" 499 "$(awk -v a="$lg_all" -v b="$lg_one" 'BEGIN {print a - b}')" \
    "$(per_tree "$lg_all" "$lg_one")"
done
