#!/usr/bin/env bash
# bench/run.sh BUILD_DIR (`make bench`): forestbatch's prediction kernel and its peers on the
# same trees, in one run, then one table on stdout and in BENCHMARKS.md.
#   1. seed data (bench/make_seed_data.sh) and deep-forest models (bench/make_models.py,
#      Debian's scikit-learn; trained once, then reused from BUILD_DIR/bench-data);
#   2. per model: fb_kernel_bench (every SIMD target this CPU has, 1 and 2 threads), scikit-learn,
#      XGBoost's C++ predictor on the same trees (bench/sk2xgb.py), and for the seed file the
#      seed's predict.py logic and `forestbatch predict` end to end (bench/e2e_time.py: the seed
#      file as CSV and as Parquet, runs taking turns, median CPU);
#   3. bench/report.py prints the table and writes BENCHMARKS.md.
# Environment: LIGHTGBM (LightGBM's CLI, for the LightGBM rows), BENCH_PEER_ROWS (rows the peers predict on the deep models, default 20000),
# BENCH_TRAIN_ROWS / BENCH_PREDICT_ROWS (see make_models.py); BENCH_TRAIN=1 adds the training
# comparison (bench/train_bench.sh --large; see the end of this file).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
data=$build/bench-data
kb=$build/bench/fb_kernel_bench
fb=$build/forestbatch
[[ -x $fb ]] || fb=$build/src/cli/forestbatch
out=$data/results.tsv
peer_rows=${BENCH_PEER_ROWS:-20000}
mkdir -p "$data"
"$root/bench/make_seed_data.sh" "$data/seed" 1
"$py" "$root/bench/make_models.py" "$data"
: >"$out"
targets=$(echo $("$kb" --list-targets))  # trimmed: the last word is the best target

run_kernel() {  # model x label [targets]
  for t in ${4:-$targets}; do
    threads=1
    [[ $t == "${targets##* }" ]] && threads=1,2
    "$kb" --model "$1" --x "$2" --label "$3" --target "$t" --threads "$threads" --min-time 1 | tee -a "$out"
  done
}
run_peers() {  # model.joblib x label rows (the converted XGBoost model is cached in $data)
  "$py" "$root/bench/peers.py" --model "$1" --x "$2" --label "$3" --rows "$4" --engine sklearn | tee -a "$out"
  "$py" "$root/bench/peers.py" --model "$1" --x "$2" --label "$3" --rows "$4" --engine xgboost \
    --xgb-json "$data/$3.xgb.json" | tee -a "$out"
}

# Seed model, seed file.
seed_csv=$data/seed/test-data1.csv
run_kernel "$root/examples/seed/model.joblib" "$seed_csv" seed
# The kernel as `predict` calls it: 2,048-row calls on rows in cache (the seed file's first 4,096 rows
# as float32, hot.f32), the best target, 1 thread; label <model>-hot-2048.
hot=$data/seed/hot.f32
[[ -s $hot ]] || "$py" - "$seed_csv" "$hot" <<'PY'
import os, sys, numpy as np
x = np.loadtxt(sys.argv[1], delimiter=",", max_rows=4096, dtype=np.float32)
x.tofile(sys.argv[2] + ".tmp")
open(sys.argv[2][:-4] + ".shape", "w").write(f"{x.shape[0]} {x.shape[1]}")
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
run_hot() {  # model label
  "$kb" --model "$1" --x "$hot" --label "$2-hot-2048" --target "${targets##* }" --threads 1 --chunk 2048 \
    --min-time 1 | tee -a "$out"
}
run_hot "$root/examples/seed/model.joblib" seed
# The same for an output of labels only (PredictLabels: the seed's two classes by float32 label margins,
# infer/predictor.h), the best target: labels `seed-labels` and `seed-labels-hot-2048`.
"$kb" --model "$root/examples/seed/model.joblib" --x "$seed_csv" --label seed-labels --target "${targets##* }" \
  --threads 1,2 --labels 1 --min-time 1 | tee -a "$out"
"$kb" --model "$root/examples/seed/model.joblib" --x "$hot" --label seed-labels-hot-2048 --target "${targets##* }" \
  --threads 1 --chunk 2048 --labels 1 --min-time 1 | tee -a "$out"
run_peers "$root/examples/seed/model.joblib" "$seed_csv" seed 0
(cd "$data/seed" && "$py" "$root/bench/peers.py" --model "$root/examples/seed/model.joblib" --x "$seed_csv" \
  --label seed --engine seed) | tee -a "$out"
# forestbatch predict end to end (model load, parse, predict, write; bench/e2e_time.py): the seed
# file as CSV, and the same rows as Parquet (zstd, written by DuckDB from npm, installed into
# BUILD_DIR/npm-parquet as tests/parquet/run_interop.sh does; skipped, saying so, without npm),
# BENCH_E2E_RUNS runs of each (default 9) taking turns, the median CPU time of each.
e2e_runs=${BENCH_E2E_RUNS:-9}
time_predict() {  # model label trees rows engine=input...: rows as bench/e2e_time.py prints them
  "$py" "$root/bench/e2e_time.py" "$fb" "$1" "$2" "$3" "$4" "$e2e_runs" "${@:5}" | tee -a "$out"
}
if "$fb" predict --help >/dev/null 2>&1; then
  seed_pq=$data/seed/test-data1.parquet
  npm_dir=$build/npm-parquet
  if [[ ! -s $seed_pq ]]; then
    if [[ ! -d $npm_dir/node_modules/@duckdb/node-api ]] && command -v npm >/dev/null; then
      npm install --silent --no-audit --no-fund --prefix "$npm_dir" @duckdb/node-api@1.5.6-r.1 >&2 || true
    fi
    if [[ -d $npm_dir/node_modules/@duckdb/node-api ]]; then
      cp "$root/bench/seed_to_parquet.mjs" "$npm_dir/" && node "$npm_dir/seed_to_parquet.mjs" "$seed_csv" "$seed_pq"
    fi
  fi
  if [[ -s $seed_pq ]]; then
    time_predict "$root/examples/seed/model.joblib" seed 200 319207 forestbatch-predict-e2e="$seed_csv" \
      forestbatch-predict-e2e-parquet="$seed_pq"
  else
    echo "bench: the Parquet row is skipped: DuckDB could not be installed from npm"
    time_predict "$root/examples/seed/model.joblib" seed 200 319207 forestbatch-predict-e2e="$seed_csv"
  fi
fi

# Deep forests: 100 fully grown trees each.
for m in rf-binary rf-multiclass rf-regressor; do
  run_kernel "$data/$m.joblib" "$data/$m.f32" "$m" "${targets##* }"  # deep trees: no SIMD kernel
  run_peers "$data/$m.joblib" "$data/$m.f32" "$m" "$peer_rows"
done
# The whole predict of the first deep forest (issue 17: within 1.3x of its kernel), its rows as
# CSV (each float32 in its shortest decimal form; written once from the .f32 the kernel reads).
rf_csv=$data/rf-binary.csv
[[ -s $rf_csv ]] || "$py" - "$data/rf-binary.f32" "$rf_csv" <<'PY'
import sys, numpy as np
rows, cols = map(int, open(sys.argv[1][:-4] + ".shape").read().split())
x = np.fromfile(sys.argv[1], dtype=np.float32).reshape(rows, cols)
with open(sys.argv[2] + ".tmp", "w") as out:
    for r in x:
        out.write(",".join(np.format_float_positional(v, unique=True, trim="-") for v in r) + "\n")
import os; os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
time_predict "$data/rf-binary.joblib" rf-binary 100 "$(cut -d' ' -f1 "$data/rf-binary.shape")" \
  forestbatch-predict-e2e="$rf_csv"

# scikit-learn's boosting (bench/make_models.py): GradientBoosting's depth-3 trees on the complete-tree
# kernel, HistGradientBoosting's 31-leaf trees through its float64 input map; scikit-learn's own
# predict_proba on the same rows (no XGBoost conversion: sk2xgb.py converts forests only).
for m in gb-binary hgb-binary; do
  run_kernel "$data/$m.joblib" "$data/$m.f32" "$m" "${targets##* }"
  "$py" "$root/bench/peers.py" --model "$data/$m.joblib" --x "$data/$m.f32" --label "$m" --rows "$peer_rows" \
    --engine sklearn | tee -a "$out"
done

# Model load (LoadModelFile, then the compile, `fb_kernel_bench --load`: one load per fresh process,
# as `forestbatch predict` loads its model (a .fbm's trees on demand), the file from the page cache; best wall time of 5
# processes): the seed joblib and .fbm, the deep forests' joblib files and the same forests as .fbm
# (converted again every run: a .fbm holds the compiled layout of the build that wrote it).
run_load() {  # model label
  for _ in 1 2 3 4 5; do "$kb" --load "$1" --label "$2"; done | sort -t$'\t' -k6,6g | head -1 | tee -a "$out"
}
run_load "$root/examples/seed/model.joblib" seed.joblib
"$fb" model convert "$root/examples/seed/model.joblib" "$data/seed.fbm" >/dev/null
run_load "$data/seed.fbm" seed.fbm
for m in rf-binary rf-multiclass rf-regressor; do
  run_load "$data/$m.joblib" "$m.joblib"
  "$fb" model convert "$data/$m.joblib" "$data/$m.fbm" >/dev/null
  run_load "$data/$m.fbm" "$m.fbm"
done

# An XGBoost model (500 rounds of depth-6 trees on the seed's features), served by the same
# kernel; XGBoost times its own predictor on the same file.
xgbm=$data/xgb-seed-500x6.json
[[ -s $xgbm ]] || "$py" "$root/bench/make_xgb_model.py" --out "$xgbm"
run_kernel "$xgbm" "$seed_csv" xgb-seed "${targets##* }"
run_hot "$xgbm" xgb-seed
# The whole predict on the same file (issue 17: within 1.3x of the kernel's CPU ns per row-tree),
# and the JSON model's load alone.
time_predict "$xgbm" xgb-seed 500 319207 forestbatch-predict-e2e="$seed_csv"
run_load "$xgbm" xgb-seed.json
# The same model as UBJSON (XGBoost's own conversion), and pickled as an XGBClassifier (its booster
# a UBJSON memory snapshot inside the pickle); both read by the one-pass reader (lazy_doc.h).
xgbu=$data/xgb-seed-500x6.ubj
[[ -s $xgbu ]] || "$py" -c 'import sys, xgboost as x; b = x.Booster(); b.load_model(sys.argv[1]); b.save_model(sys.argv[2])' \
  "$xgbm" "$xgbu"
run_load "$xgbu" xgb-seed.ubj
xgbp=$data/xgb-seed-500x6.pkl
[[ -s $xgbp ]] || "$py" -W ignore -c 'import sys, pickle, xgboost as x; c = x.XGBClassifier(); c.load_model(sys.argv[1]); pickle.dump(c, open(sys.argv[2], "wb"))' \
  "$xgbm" "$xgbp"
run_load "$xgbp" xgb-seed.pkl
"$fb" model convert "$xgbm" "$data/xgb-seed-500x6.fbm" >/dev/null
run_load "$data/xgb-seed-500x6.fbm" xgb-seed.fbm
"$py" "$root/bench/peers.py" --model "$xgbm" --x "$seed_csv" --label xgb-seed --rows "$peer_rows" \
  --engine xgboost | tee -a "$out"
# The same shape of model on 20 continuous features (few thresholds repeat).
xgbc=$data/xgb-cont-500x6.json
[[ -s $xgbc && -s $data/xgb-cont.f32 ]] || "$py" "$root/bench/make_xgb_model.py" --out "$xgbc" \
  --continuous "$data/xgb-cont.f32"
run_kernel "$xgbc" "$data/xgb-cont.f32" xgb-cont
"$py" "$root/bench/peers.py" --model "$xgbc" --x "$data/xgb-cont.f32" --label xgb-cont --rows "$peer_rows" \
  --engine xgboost | tee -a "$out"

# LightGBM models (500 rounds of 31-leaf trees) against LightGBM's own CLI on the same CSV
# (bench/lgbm_bench.sh says which comparison is fair). LIGHTGBM=/path/to/lightgbm, or `lightgbm` on
# PATH; without it the rows are skipped, saying so.
lgbm_cli=${LIGHTGBM:-$(command -v lightgbm || true)}
if [[ -n $lgbm_cli && -x $lgbm_cli ]]; then
  "$root/bench/lgbm_bench.sh" "$lgbm_cli" "$build" "$data" | tee -a "$out"
else
  echo "bench: the LightGBM rows are skipped: no LightGBM CLI (set LIGHTGBM=/path/to/lightgbm)"
fi

# The seed's whole array job (issue: 100 files, run --workers 2), its table kept for the report.
"$root/bench/run_seed_job.sh" "$build" | tee "$data/seed-job.txt"

# Cost by input size (issue 17): one predict of 1 to 100 M generated rows streamed through stdin,
# rows/s, CPU per row and peak RSS (bench/linear_rows.py, about 3 minutes; BENCH_LINEAR=0 skips it
# and keeps its section of BENCHMARKS.md).
if [[ ${BENCH_LINEAR:-1} != 0 ]]; then
  "$py" "$root/bench/linear_rows.py" "$build" --update "$root/BENCHMARKS.md"
fi

# Training (issue 8), only with BENCH_TRAIN=1 (scikit-learn alone fits 100 trees on 750,000 x 50
# rows for about 10 minutes on 2 cores): forestbatch train against scikit-learn on
# make_classification 1,000,000 x 50, BENCH_TRAIN_TREES trees (default 100; BENCH_TRAIN_SK_TREES
# fewer for scikit-learn, compared per tree), BENCH_TRAIN_THREADS threads (default: all cores).
# Its section of BENCHMARKS.md is kept as it was when the training benchmark does not run.
train_section=$data/train-section.md
"$py" "$root/bench/train_report.py" extract "$root/BENCHMARKS.md" "$train_section"
"$py" "$root/bench/report.py" "$out" "$root/BENCHMARKS.md" "$data/seed-job.txt"
if [[ ${BENCH_TRAIN:-0} != 0 ]]; then
  trees=${BENCH_TRAIN_TREES:-100}
  threads=${BENCH_TRAIN_THREADS:-$(nproc)}
  cmd="bench/train_bench.sh BUILD $threads --large --trees $trees --sk-trees ${BENCH_TRAIN_SK_TREES:-$trees}"
  WORK=$data/train "$root/bench/train_bench.sh" "$build" "$threads" --large --trees "$trees" \
    --sk-trees "${BENCH_TRAIN_SK_TREES:-$trees}"
  "$py" "$root/bench/train_report.py" write "$data/train/results.json" "$train_section" "BENCH_TRAIN=1 make bench ($cmd)"
fi
"$py" "$root/bench/train_report.py" insert "$root/BENCHMARKS.md" "$train_section"
# Skewed workload (issue 16): makespan of static, --shard-by bytes and --schedule dynamic with the
# large files in the first slice and one task slowed by SIGSTOP bursts (about 2 minutes, mostly
# sleeping; BENCH_SKEW=0 skips it and keeps its section of BENCHMARKS.md).
if [[ ${BENCH_SKEW:-1} != 0 ]]; then
  "$py" "$root/bench/skewed_schedule.py" "$fb" --update "$root/BENCHMARKS.md"
fi
