#!/usr/bin/env bash
# run_e2e.sh FORESTBATCH SOURCE_DIR: end-to-end checks of `forestbatch predict`.
set -uo pipefail
fb=$1
src=$2
data=$src/tests/predict/data
seed_model=$src/examples/seed/model.joblib
seed_csv=$src/examples/seed/test-data1-small.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# expect_exit CODE DESCRIPTION -- command...: runs it, stderr to $work/err.
expect_exit() {
  local want=$1 what=$2
  shift 3
  "$@" >"$work/stdout_cap" 2>"$work/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    fail "$what: exit $got, want $want; stderr: $(cat "$work/err")"
    return 1
  fi
  ok "$what (exit $got)"
}
expect_err() {  # expect_err FRAGMENT: $work/err contains it
  grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1': $(cat "$work/err")"
}
no_leftovers() {  # no_leftovers DIR: no temporaries or outputs besides the listed files
  local dir=$1
  shift
  local extra
  extra=$(cd "$dir" && find . -type f | sed 's|^\./||' | sort | grep -vxF -f <(printf '%s\n' "$@") || true)
  [[ -z $extra ]] || fail "unexpected files in $dir: $extra"
}

# --- seed parity: all rows, and exactly predict.py's output minus the lost row.
expect_exit 0 "seed model, seed format" -- "$fb" predict --model "$seed_model" --input "$seed_csv" \
  --output "$work/seed.csv" --format seed
cmp -s "$work/seed.csv" "$data/seed-small-expected.csv" || fail "seed format differs from scikit-learn"
# predict.py reads the first data row as a header: its row i is our row i+1.
diff <(tail -n +3 "$work/seed.csv" | cut -d, -f2) <(tail -n +2 "$data/seed-small-predict-py.csv" | cut -d, -f2) \
  >/dev/null || fail "labels differ from the seed's predict.py output"
[[ $(head -1 "$data/seed-small-predict-py.csv") == ",0" ]] || fail "fixture header"
expect_err "10297 rows"

# --- probabilities within 1e-6 of predict_proba (first 200 rows).
"$fb" predict -q --model "$seed_model" --input "$seed_csv" --output - --proba | head -201 >"$work/proba.csv"
paste -d, "$work/proba.csv" "$data/seed-small-proba-head.csv" | awk -F, '
  NR == 1 { if ($0 != "prediction,proba_0,proba_1,prediction,proba_0,proba_1") bad = 1; next }
  { if ($1 != $4) bad = 1; for (i = 2; i <= 3; i++) { d = $i - $(i + 3); if (d < 0) d = -d; if (d > 1e-6) bad = 1 } }
  END { exit bad }' || fail "--proba differs from predict_proba"

# --- csv default, stdin/stdout, threads, jsonl.
expect_exit 0 "csv to a file" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/a.csv" --threads 2
[[ $(head -1 "$work/a.csv") == prediction ]] || fail "csv header"
[[ $(wc -l <"$work/a.csv") -eq 10298 ]] || fail "csv line count"
cat "$seed_csv" | "$fb" predict -q -m "$seed_model" -i - -o - --threads 1 >"$work/b.csv" || fail "stdin to stdout"
cmp -s "$work/a.csv" "$work/b.csv" || fail "stdin/stdout output differs from file output"
expect_exit 0 "jsonl" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/a.jsonl" -f jsonl --proba
[[ $(head -1 "$work/a.jsonl") == '{"row":0,"prediction":0,"proba":{"0":0.9023487321431196,"1":0.09765126785688037}}' ]] ||
  fail "jsonl first line: $(head -1 "$work/a.jsonl")"
[[ $(wc -l <"$work/a.jsonl") -eq 10297 ]] || fail "jsonl line count"

# --- named features: shuffled columns, extra text column, quotes, CRLF; string labels; regressor.
"$fb" predict -q -m "$data/iris_named.joblib" -i "$data/iris_named.csv" -o - -f seed | cmp -s - "$data/iris_named.seed.csv" ||
  fail "iris seed output"
"$fb" predict -q -m "$data/iris_named.joblib" -i "$data/iris_named.csv" -o - --proba | cmp -s - "$data/iris_named.proba.csv" ||
  fail "iris proba output"
"$fb" predict -q -m "$data/diabetes.joblib" -i "$data/diabetes.csv" -o - -f seed | cmp -s - "$data/diabetes.seed.csv" ||
  fail "regressor seed output"
cut -d, -f1,3- "$data/iris_named.csv" | sed 's/petal_length/petal_len/' >"$work/iris-missing.csv"
expect_exit 3 "a missing feature column" -- "$fb" predict -m "$data/iris_named.joblib" -i "$work/iris-missing.csv" -o "$work/x.csv"
expect_err "iris-missing.csv:1: the header lacks 1 of the model's 4 features: petal_length"
tr ',' ';' <"$seed_csv" >"$work/semi.csv"
"$fb" predict -q -m "$seed_model" -i "$work/semi.csv" -o "$work/semi.out" -d ';' && cmp -s "$work/semi.out" "$work/a.csv" ||
  fail "--delimiter ;"

# --- folder mode: nested, compressed, one bad file; the others are written.
mkdir -p "$work/in/sub" "$work/outdir"
cp "$seed_csv" "$work/in/a.csv"
gzip -c "$seed_csv" >"$work/in/sub/b.csv.gz"
zstd -q -c "$seed_csv" -o "$work/in/sub/c.csv.zst"
{ head -100 "$seed_csv"; echo "1,2,3"; } >"$work/in/bad.csv"
expect_exit 1 "folder with a bad file" -- "$fb" predict -m "$seed_model" -i "$work/in" -o "$work/outdir" -f seed
expect_err "bad.csv:101:4: the row has 3 fields but the first row has 59"
expect_err "3 of 4 files predicted"
for f in a.csv sub/b.csv sub/c.csv; do
  cmp -s "$work/outdir/$f" "$data/seed-small-expected.csv" || fail "folder output $f"
done
no_leftovers "$work/outdir" a.csv sub/b.csv sub/c.csv

# --- errors: exit codes, messages with file:line:column, nothing partial left.
mkdir -p "$work/e"
{ head -5000 "$seed_csv"; echo "1,2,x$(printf ',0%.0s' $(seq 56))"; } >"$work/e/text.csv"
expect_exit 3 "non-numeric field" -- "$fb" predict -m "$seed_model" -i "$work/e/text.csv" -o "$work/e/out.csv"
expect_err "text.csv:5001:3: not a number: 'x' in column 3"
"$fb" predict -m "$seed_model" -i "$work/e/text.csv" -o - >"$work/stdout" 2>/dev/null
[[ ! -s $work/stdout ]] || fail "a failed run printed part of its output to stdout"
head -c 30000 <(gzip -c "$seed_csv") >"$work/e/trunc.csv.gz"
expect_exit 3 "truncated gzip" -- "$fb" predict -m "$seed_model" -i "$work/e/trunc.csv.gz" -o "$work/e/out.csv"
expect_err "truncated gzip"
: >"$work/e/empty.csv"
expect_exit 3 "empty file" -- "$fb" predict -m "$seed_model" -i "$work/e/empty.csv" -o "$work/e/out.csv"
expect_err "empty.csv: empty file"
head -3 "$seed_csv" | cut -d, -f1-58 >"$work/e/narrow.csv"
expect_exit 3 "model/data mismatch" -- "$fb" predict -m "$seed_model" -i "$work/e/narrow.csv" -o "$work/e/out.csv"
expect_err "narrow.csv:1: the first row has 58 columns but the model expects 59 features"
no_leftovers "$work/e" text.csv trunc.csv.gz empty.csv narrow.csv
expect_exit 5 "missing input" -- "$fb" predict -m "$seed_model" -i "$work/nope.csv" -o "$work/e/out.csv"
expect_exit 5 "missing model" -- "$fb" predict -m "$work/nope.joblib" -i "$seed_csv" -o "$work/e/out.csv"
expect_exit 2 "bad format" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/e/out.csv" -f xml
expect_exit 2 "seed format with --proba" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/e/out.csv" -f seed --proba
expect_exit 2 "--proba on a regressor" -- "$fb" predict -m "$data/diabetes.joblib" -i "$data/diabetes.csv" -o - --proba
expect_exit 2 "output over the input" -- "$fb" predict -m "$seed_model" -i "$work/a.csv" -o "$work/a.csv"
expect_exit 0 "help" -- "$fb" predict --help
grep -q -- "--header" "$work/stdout_cap" || fail "help lacks --header"

# --- rows keep their identity: --keep-columns, --output-columns, positions without a header.
{ echo "id,petal_width,note,sepal_length,petal_length,sepal_width"; tail -n +2 "$data/iris_named.csv" | awk '{print "00" NR "," $0}'; } >"$work/iris-id.csv"
expect_exit 0 "keep an id column" -- "$fb" predict -m "$data/iris_named.joblib" -i "$work/iris-id.csv" -o "$work/iris-id.out" \
  --keep-columns id --output-columns prediction,proba_virginica=p_virginica
[[ $(head -1 "$work/iris-id.out") == "id,prediction,p_virginica" ]] || fail "kept header: $(head -1 "$work/iris-id.out")"
[[ $(sed -n 2p "$work/iris-id.out" | cut -d, -f1) == 001 ]] || fail "the id travels verbatim: $(sed -n 2p "$work/iris-id.out")"
diff <(cut -d, -f2 "$work/iris-id.out" | tail -n +2) <(tail -n +2 "$data/iris_named.seed.csv" | cut -d, -f2) >/dev/null ||
  fail "kept-column run predicts differently"
"$fb" predict -q -m "$data/iris_named.joblib" -i "$work/iris-id.csv" -o - -f jsonl --keep-columns id,note | head -1 >"$work/j1"
[[ $(cut -c1-36 "$work/j1") == '{"row":0,"id":"001","note":"x","pred' ]] || fail "jsonl kept: $(cat "$work/j1")"
awk -F, '{print NR "," $0}' "$seed_csv" >"$work/seed-id.csv"
expect_exit 0 "a leading id column without a header" -- "$fb" predict -m "$seed_model" -i "$work/seed-id.csv" -o "$work/seed-id.out" \
  --keep-columns 1 --header no
cmp -s <(cut -d, -f2 "$work/seed-id.out") "$work/a.csv" || fail "positional kept column changes predictions"
[[ $(head -2 "$work/seed-id.out" | tail -1 | cut -d, -f1) == 1 ]] || fail "positional kept value"
expect_exit 3 "kept column that does not exist" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/x.csv" --keep-columns id
expect_err "no header, so columns are named by 1-based position"
expect_exit 2 "unknown output column" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/x.csv" --output-columns nope
expect_err "no prediction column 'nope'"
expect_exit 2 "seed format with kept columns" -- "$fb" predict -m "$seed_model" -i "$seed_csv" -o "$work/x.csv" -f seed --keep-columns 1

# --- a UTF-8 byte order mark is not data; infinity is scikit-learn's error.
{ printf '\xef\xbb\xbf'; cat "$data/iris_named.csv"; } >"$work/bom.csv"
"$fb" predict -q -m "$data/iris_named.joblib" -i "$work/bom.csv" -o - -f seed | cmp -s - "$data/iris_named.seed.csv" || fail "BOM input"
{ head -3 "$seed_csv"; head -1 "$seed_csv" | sed 's/^[0-9]*,/inf,/'; } >"$work/inf.csv"
expect_exit 3 "infinity for a scikit-learn model" -- "$fb" predict -m "$seed_model" -i "$work/inf.csv" -o "$work/x.csv"
expect_err "inf.csv:4:1: Input X contains infinity or a value too large for dtype('float32')"

# --- a Spark output folder: part files, _SUCCESS, checksums, a _temporary folder.
mkdir -p "$work/spark/in/_temporary/0" "$work/spark/in/year=2024"
split -l 4000 -d --additional-suffix=.csv "$seed_csv" "$work/spark/in/year=2024/part-"
gzip "$work/spark/in/year=2024/part-01.csv"
: >"$work/spark/in/_SUCCESS"
echo junk >"$work/spark/in/year=2024/.part-00.csv.crc"
echo junk >"$work/spark/in/_temporary/0/part-99.csv"
echo junk >"$work/spark/in/.hidden.csv"
expect_exit 0 "a Spark folder runs with no failures" -- "$fb" predict -m "$seed_model" -i "$work/spark/in" -o "$work/spark/out"
(cd "$work/spark/out" && find . -type f | sort | tr '\n' ' ') >"$work/spark/list"
[[ $(cat "$work/spark/list") == "./year=2024/part-00.csv ./year=2024/part-01.csv ./year=2024/part-02.csv " ]] ||
  fail "Spark folder outputs: $(cat "$work/spark/list")"
expect_exit 0 "--include/--exclude" -- "$fb" predict -m "$seed_model" -i "$work/spark/in" -o "$work/spark/out2" \
  --include 'part-0*' --exclude '*.gz' -f jsonl
(cd "$work/spark/out2" && find . -type f | sort | tr '\n' ' ') >"$work/spark/list2"
[[ $(cat "$work/spark/list2") == "./year=2024/part-00.jsonl ./year=2024/part-02.jsonl " ]] || fail "globs: $(cat "$work/spark/list2")"
# run and worker name outputs by the same rule: a.csv.gz -> a.csv.
expect_exit 0 "run on the Spark folder" -- "$fb" run -m "$seed_model" -i "$work/spark/in" -o "$work/spark/run" --workers 2 \
  --state "$work/spark/state" --progress none
[[ -f $work/spark/run/year=2024/part-01.csv && ! -e $work/spark/run/year=2024/part-01.csv.gz ]] || fail "run output name of a .gz input"
cmp -s "$work/spark/run/year=2024/part-01.csv" "$work/spark/out/year=2024/part-01.csv" || fail "run and predict outputs differ"

# --- scikit-learn's boosted and isolation ensembles through the CLI
# (fixtures: tests/sklearn/fixtures/boosting, made by make_boosting_fixtures.py).
boost=$src/tests/sklearn/fixtures/boosting
# close FILE_A FILE_B TOL: same labels (column 1), other columns within TOL.
close() {
  paste -d, "$1" "$2" | awk -F, -v tol="$3" '{ n = NF / 2; if ($1 != $(n + 1)) bad = 1;
    for (i = 2; i <= n; i++) { d = $i - $(i + n); if (d < 0) d = -d; if (d > tol) bad = 1 } } END { exit bad }'
}
expect_exit 0 "IsolationForest with --proba" -- "$fb" predict -m "$boost/iforest-default.joblib.gz" \
  -i "$boost/iforest-default.X.csv" -o "$work/if.csv" --proba
[[ $(head -1 "$work/if.csv") == "prediction,score_samples,decision_function" ]] || fail "IsolationForest header: $(head -1 "$work/if.csv")"
close <(tail -n +2 "$work/if.csv") "$boost/iforest-default.expected.csv" 1e-12 || fail "IsolationForest differs from scikit-learn"
expect_exit 0 "GradientBoostingClassifier with --proba" -- "$fb" predict -m "$boost/gbc-multiclass-strings.joblib.gz" \
  -i "$boost/gbc-multiclass-strings.X.csv" -o "$work/gb.csv" --proba
[[ $(head -1 "$work/gb.csv") == "prediction,proba_barbera,proba_barolo,proba_grignolino" ]] || fail "GB header"
close <(tail -n +2 "$work/gb.csv") "$boost/gbc-multiclass-strings.expected.csv" 1e-6 || fail "GB differs from scikit-learn"
# XGBoost's scikit-learn wrapper is read since issue 13 (tests/xgboost); an
# estimator whose pickle calls compiled code is still refused as unsupported.
expect_exit 4 "an estimator that calls compiled code" -- "$fb" predict -m "$boost/unsupported/knn.pkl" -i "$seed_csv" -o "$work/e/out.csv"
expect_err "unsupported model: the file calls sklearn.neighbors._kd_tree"
expect_exit 4 "an unsupported pipeline step" -- "$fb" predict -m "$boost/unsupported/function-transformer.pkl" -i "$seed_csv" -o "$work/e/out.csv"
expect_err "preprocessing step 'f' is FunctionTransformer"
expect_exit 4 "a GradientBoosting init that is not a Dummy" -- "$fb" predict -m "$boost/unsupported/gb-forest-init.joblib" \
  -i "$seed_csv" -o "$work/e/out.csv"
expect_err "init_ is RandomForestClassifier"

# --- Pipelines with preprocessing (tests/sklearn/fixtures/pipeline): strings,
# unseen categories, missing values, columns by name in another order.
pipe=$src/tests/sklearn/fixtures/pipeline
expect_exit 0 "Pipeline with ColumnTransformer, --proba" -- "$fb" predict -m "$pipe/mixed-ct-onehot-ignore-rf.joblib" \
  -i "$pipe/mixed-ct-onehot-ignore-rf.X.csv" -o "$work/pipe.csv" --proba
[[ $(head -1 "$work/pipe.csv") == "prediction,proba_no,proba_yes" ]] || fail "Pipeline header: $(head -1 "$work/pipe.csv")"
close <(tail -n +2 "$work/pipe.csv") "$pipe/mixed-ct-onehot-ignore-rf.expected.csv" 1e-6 || fail "Pipeline differs from scikit-learn"
expect_exit 0 "nested Pipelines, IsolationForest" -- "$fb" predict -m "$pipe/mixed-nested-categories-slices-iforest.pkl" \
  -i "$pipe/mixed-nested-categories-slices-iforest.X.csv" -o "$work/pipe-if.csv" --proba
close <(tail -n +2 "$work/pipe-if.csv") "$pipe/mixed-nested-categories-slices-iforest.expected.csv" 1e-6 ||
  fail "nested Pipeline IsolationForest differs"
"$fb" model inspect "$pipe/mixed-ct-onehot-ignore-rf.joblib" >"$work/inspect.txt" 2>&1
grep -qF "prep > cat > onehot: OneHotEncoder(handle_unknown='ignore')" "$work/inspect.txt" ||
  fail "model inspect lacks the preprocessing steps: $(cat "$work/inspect.txt")"
expect_exit 4 "FunctionTransformer in a Pipeline" -- "$fb" predict -m "$pipe/refused/function-transformer.joblib" -i "$seed_csv" -o "$work/e/out.csv"
expect_err "preprocessing step 'log' is FunctionTransformer"
expect_exit 3 "a hostile category (os.system)" -- "$fb" predict -m "$pipe/hostile/category-os-system.pkl" -i "$seed_csv" -o "$work/e/out.csv"
expect_exit 3 "an unknown category with handle_unknown='error'" -- "$fb" predict -m "$pipe/refused/onehot-error.joblib" \
  -i "$pipe/refused/onehot-error.X.csv" -o "$work/e/out.csv"
expect_err "unknown category 'purple'"

# --- the malloc heap on huge pages (common/prefault.h, UseBatchHeap): main() reserves it first
# thing, so a predict still waiting for its input already has a heap mapping advised for huge
# pages (where the kernel's setting allows them; a sanitizer's allocator is left alone), and a
# process whose address space is too small for the reservation predicts the same.
# (Not `nm | grep -q`: grep's early exit makes nm's SIGPIPE the pipeline's status under pipefail.)
sanitized=0
dynsyms=$(nm -D "$fb" 2>/dev/null)
[[ $dynsyms == *" __asan_init"* ]] && sanitized=1
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo "[never]")
if ((!sanitized)); then
  mkfifo "$work/fifo"
  "$fb" predict -q -m "$seed_model" -i "$work/fifo" -o "$work/fifo.csv" --threads 2 &
  pid=$!
  advised=0
  for _ in $(seq 100); do
    if awk '/^[0-9a-f]+-[0-9a-f]+ / { heap = ($6 == "[heap]") } heap && /^VmFlags:.* hg/ { found = 1 } END { exit !found }' \
      "/proc/$pid/smaps" 2>/dev/null; then
      advised=1
      break
    fi
    [[ $thp == *"[never]"* ]] && break
    sleep 0.05
  done
  # Bounded: a predict that failed before opening the fifo leaves no reader.
  timeout 60 sh -c 'cat "$1" >"$2"' sh "$seed_csv" "$work/fifo" || fail "could not feed the fifo"
  wait "$pid" || fail "predict from a fifo: exit $?"
  cmp -s "$work/fifo.csv" "$work/a.csv" || fail "predict from a fifo: output differs"
  if [[ $thp != *"[never]"* ]]; then
    ((advised)) && ok "the heap is advised for huge pages" || fail "no [heap] mapping advised for huge pages (THP: $thp)"
  fi
  (ulimit -v 100000 && "$fb" predict -q -m "$seed_model" -i "$seed_csv" -o "$work/small-as.csv" --threads 2) ||
    fail "predict under ulimit -v 100000: exit $?"
  cmp -s "$work/small-as.csv" "$work/a.csv" || fail "predict under ulimit -v 100000: output differs"
fi

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all predict e2e checks passed"
