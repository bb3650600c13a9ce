#!/usr/bin/env bash
# run_interop.sh FORESTBATCH SOURCE_DIR NPM_PREFIX: Parquet against independent
# implementations. Installs DuckDB (@duckdb/node-api) and arrow-rs
# (parquet-wasm) from npm into NPM_PREFIX (a build folder) on first use.
# Files they write, with every codec, dictionary and plain encodings, v1 and
# v2 pages, nulls, several row groups and a wide table, must give exactly the
# predictions of the same data as CSV; files forestbatch writes must read
# back equal in both. When npm or the packages cannot be had: skipped (exit
# 77) with the reason, or a failure under CI=true (tests/harness/fbtest.sh).
set -uo pipefail
fb=$1
src=$2
prefix=$3
source "$src/tests/harness/fbtest.sh"
pkgs=(@duckdb/node-api@1.5.6-r.1 parquet-wasm@0.8.0 apache-arrow@21.2.0)
command -v npm >/dev/null || fb_missing npm "npm is not installed (scripts/setup-deps.sh installs nodejs, npm)"
fb_npm_install "$prefix" "${pkgs[@]}" ||
  fb_missing duckdb+parquet-wasm "npm cannot install ${pkgs[*]} (registry unreachable?)"
fb_use duckdb "@duckdb/node-api $(fb_npm_version "$prefix" @duckdb/node-api) (npm)"
fb_use parquet-wasm "$(fb_npm_version "$prefix" parquet-wasm) (npm, arrow-rs)"
fb_use apache-arrow "$(fb_npm_version "$prefix" apache-arrow) (npm)"
export NODE_PATH=$prefix/node_modules
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Node resolves ESM imports from the script's folder: run a copy beside the packages.
cp "$src/tests/parquet/interop.mjs" "$prefix/interop.mjs"
js() { node "$prefix/interop.mjs" "$@"; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

seed_model=$src/examples/seed/model.joblib
seed_csv=$src/examples/seed/test-data1-small.csv
iris_model=$src/tests/predict/data/iris_named.joblib
iris_csv=$src/tests/predict/data/iris_named.csv
mkdir -p "$work/in"
js write "$seed_csv" "$iris_csv" "$work/in" || { fail "writing the inputs"; exit 1; }

# The CSV route is the reference.
"$fb" predict -q -m "$seed_model" -i "$seed_csv" -o "$work/seed.csv" --proba --header no || fail "seed csv"
"$fb" predict -q -m "$iris_model" -i "$iris_csv" -o "$work/iris.csv" --proba || fail "iris csv"
seen=""
for f in "$work"/in/seed-*.parquet; do
  n=$(basename "$f")
  "$fb" predict -q -m "$seed_model" -i "$f" -o "$work/$n.csv" --proba --keep-columns id || { fail "$n: exit $?"; continue; }
  cut -d, -f2- "$work/$n.csv" | cmp -s - "$work/seed.csv" || fail "$n: predictions differ from the CSV route"
  [[ $(head -2 "$work/$n.csv" | tail -1 | cut -d, -f1) == 0 ]] || fail "$n: kept id"
  seen+=" $(js meta "$f")"
done
for f in "$work"/in/iris-duckdb-*.parquet "$work/in/iris-wide.parquet"; do
  n=$(basename "$f")
  "$fb" predict -q -m "$iris_model" -i "$f" -o "$work/$n.csv" --proba --keep-columns id || { fail "$n: exit $?"; continue; }
  cut -d, -f2- "$work/$n.csv" | cmp -s - "$work/iris.csv" || fail "$n: predictions differ from the CSV route"
  seen+=" $(js meta "$f")"
done
# Every codec and the encodings the writers chose were exercised.
for want in UNCOMPRESSED SNAPPY GZIP ZSTD LZ4_RAW PLAIN RLE_DICTIONARY DELTA_BINARY_PACKED; do
  grep -q "$want" <<<"$seen" || fail "no input used $want (seen:$(tr ' ' '\n' <<<"$seen" | sort -u | tr '\n' ' '))"
done
# Nulls are missing values: this scikit-learn 1.2 model rejects them, as with CSV.
"$fb" predict -q -m "$iris_model" -i "$work/in/iris-nulls.parquet" -o "$work/nulls.csv" 2>"$work/err"
[[ $? -eq 3 ]] && grep -q "Input X contains NaN" "$work/err" || fail "nulls: $(cat "$work/err")"
[[ ! -e $work/nulls.csv ]] || fail "nulls: an output was left"

# Typed kept columns, to csv and jsonl and parquet; parquet read back by both.
"$fb" predict -q -m "$iris_model" -i "$work/in/iris-typed.parquet" -o "$work/typed.csv" --keep-columns id,key,day,ts,amount --proba || fail "typed csv"
[[ $(head -1 "$work/typed.csv") == id,key,day,ts,amount,prediction,proba_setosa,proba_versicolor,proba_virginica ]] || fail "typed header: $(head -1 "$work/typed.csv")"
[[ $(sed -n 2p "$work/typed.csv" | cut -d, -f1-5) == "1001,k1001,2024-01-02,2024-01-01T12:00:01.000000,125.125" ]] || fail "typed row: $(sed -n 2p "$work/typed.csv")"
# Booleans (RLE in v2 pages) and the other types read the same from v1 and v2 pages.
for v in "" -v2; do
  "$fb" predict -q -m "$iris_model" -i "$work/in/iris-typed$v.parquet" -o "$work/flag$v.csv" --keep-columns id,flag,amount || fail "flag$v"
done
cmp -s "$work/flag.csv" "$work/flag-v2.csv" || fail "typed v1 and v2 pages differ"
[[ $(sed -n 3p "$work/flag.csv" | cut -d, -f1-3) == "1002,true,125.250" && $(sed -n 4p "$work/flag.csv" | cut -d, -f2) == false ]] ||
  fail "kept booleans: $(sed -n 2,4p "$work/flag.csv" | tr '\n' ' ')"
"$fb" predict -q -m "$iris_model" -i "$work/in/iris-typed.parquet" -o "$work/typed.jsonl" -f jsonl --keep-columns id,key
[[ $(sed -n 5p "$work/typed.jsonl" | cut -c1-40) == '{"row":4,"id":1005,"key":null,"predictio' ]] || fail "typed jsonl: $(sed -n 5p "$work/typed.jsonl")"
for codec in snappy zstd; do
  "$fb" predict -q -m "$iris_model" -i "$work/in/iris-typed.parquet" -o "$work/typed-$codec.parquet" -f parquet \
    --parquet-compression $codec --keep-columns id,key,day,ts --proba || fail "parquet out $codec"
  js read-duckdb "$work/typed-$codec.parquet" >"$work/back-duck.csv" || fail "DuckDB cannot read our $codec file"
  js read-arrow "$work/typed-$codec.parquet" >"$work/back-arrow.csv" || fail "arrow-rs cannot read our $codec file"
  [[ $(wc -l <"$work/back-duck.csv") -eq $(wc -l <"$work/typed.csv") ]] || fail "DuckDB row count ($codec)"
  # The predictions and probabilities, as doubles, equal the csv output's.
  paste -d, <(cut -d, -f5- "$work/back-duck.csv") <(cut -d, -f6- "$work/typed.csv") | awk -F, 'NR > 1 {
    n = NF / 2; for (i = 1; i <= n; i++) if ($i != $(i + n) && ($i + 0) != ($(i + n) + 0)) { bad = 1 } } END { exit bad }' ||
    fail "DuckDB reads other predictions ($codec)"
  paste -d, <(cut -d, -f5- "$work/back-arrow.csv") <(cut -d, -f6- "$work/typed.csv") | awk -F, 'NR > 1 {
    n = NF / 2; for (i = 1; i <= n; i++) if ($i != $(i + n) && ($i + 0) != ($(i + n) + 0)) { bad = 1 } } END { exit bad }' ||
    fail "arrow-rs reads other predictions ($codec)"
  [[ $(sed -n 6p "$work/back-duck.csv" | cut -d, -f1,2) == "1005," ]] || fail "DuckDB: a null kept value ($codec): $(sed -n 6p "$work/back-duck.csv")"
done
# Our output read back by ourselves: Parquet in, Parquet out, Parquet in again.
"$fb" predict -q -m "$seed_model" -i "$work/in/seed-duckdb-zstd-V2.parquet" -o "$work/seed-out.parquet" -f parquet --keep-columns id || fail "seed parquet out"
js read-duckdb "$work/seed-out.parquet" | tail -n +2 | cut -d, -f2 | cmp -s - <(tail -n +2 "$work/seed.csv" | cut -d, -f1) || fail "seed parquet labels"

# scikit-learn Pipelines (ColumnTransformer, encoders, imputers, scalers; tests/sklearn), and
# HistGradientBoosting with a 1.4-style _preprocessor (fixtures/hgb/preprocessor): each
# fixture's table as Parquet (DuckDB's types: strings, integers, doubles, nulls for empty fields)
# scores exactly as the same table as CSV.
n_pipes=0
for pipes in "$src/tests/sklearn/fixtures/pipeline" "$src/tests/sklearn/fixtures/hgb/preprocessor"; do
while read -r name model kind _; do
  [[ -z $name || $name == \#* ]] && continue
  proba=(--proba)
  [[ $kind == regressor ]] && proba=()
  x=$pipes/$name.X.csv
  header=noheader
  head -1 "$x" | grep -q '[A-Za-z_]' && header=header
  js csv-to-parquet "$x" "$work/pipe-$name.parquet" "$header" || { fail "pipeline $name: DuckDB"; continue; }
  hflag=()
  [[ $header == noheader ]] && hflag=(--header no)
  "$fb" predict -q -m "$pipes/$model" -i "$x" -o "$work/pipe-$name.csv" "${proba[@]}" "${hflag[@]}" || { fail "pipeline $name: csv exit $?"; continue; }
  for v in "" -v2; do
    "$fb" predict -q -m "$pipes/$model" -i "$work/pipe-$name$v.parquet" -o "$work/pipe-$name$v.pq.csv" "${proba[@]}" ||
      { fail "pipeline $name$v: parquet exit $?"; continue; }
    cmp -s "$work/pipe-$name.csv" "$work/pipe-$name$v.pq.csv" || fail "pipeline $name$v: predictions differ from the CSV route"
  done
  n_pipes=$((n_pipes + 1))
done <"$pipes/manifest.txt"
done
((n_pipes >= 12)) || fail "only $n_pipes pipeline fixtures were read"
pipes=$src/tests/sklearn/fixtures/pipeline
# Refusals placed by data row and column, as with CSV: a text where the Pipeline reads numbers,
# infinity (scikit-learn's transformers raise "Input X contains infinity").
awk -F, -v OFS=, 'NR == 3 { $1 = "abc" } 1' "$pipes/bc-mean-standard-rf.X.csv" >"$work/pipe-bad.csv"
awk -F, -v OFS=, 'NR == 4 { $4 = "inf" } 1' "$pipes/mixed-ct-onehot-ignore-rf.X.csv" >"$work/pipe-inf.csv"
js csv-to-parquet "$work/pipe-bad.csv" "$work/pipe-bad.parquet" header || fail "pipeline bad: DuckDB"
js csv-to-parquet "$work/pipe-inf.csv" "$work/pipe-inf.parquet" header || fail "pipeline inf: DuckDB"
"$fb" predict -q -m "$pipes/bc-mean-standard-rf.joblib" -i "$work/pipe-bad.parquet" -o "$work/pipe-bad.out" 2>"$work/err"
[[ $? -eq 3 ]] && grep -q "pipe-bad.parquet:2:1: not a number: 'abc' in column 'mean perimeter'" "$work/err" ||
  fail "pipeline bad: $(cat "$work/err")"
"$fb" predict -q -m "$pipes/mixed-ct-onehot-ignore-rf.joblib" -i "$work/pipe-inf.parquet" -o "$work/pipe-inf.out" 2>"$work/err"
[[ $? -eq 3 ]] && grep -q "pipe-inf.parquet:3:4: Input X contains infinity" "$work/err" || fail "pipeline inf: $(cat "$work/err")"
# A kept column beside a Pipeline.
name=mixed-ct-onehot-ignore-rf
"$fb" predict -q -m "$pipes/$name.joblib" -i "$work/pipe-$name.parquet" -o "$work/pipe-kept.csv" --keep-columns ignored_extra ||
  fail "pipeline kept: exit $?"
[[ $(sed -n 3p "$work/pipe-kept.csv" | cut -d, -f1) == 7 ]] || fail "pipeline kept: $(sed -n 3p "$work/pipe-kept.csv")"

# train reads Parquet (issue 14): a mixed table (an integer id, doubles with nulls, numbers as text
# with NA spellings, categories, negative integers, a text target) trained from DuckDB's Parquet,
# v1 and v2 pages, gives the byte-identical model of the same table as CSV, and --test on Parquet
# writes the CSV route's --test-output (kept id included).
awk 'BEGIN { srand(5); split("red green blue", colours, " "); split("S M L 10", sizes, " ");
  print "id,a,colour,b,size,n,c,y";
  for (i = 0; i < 3000; i++) {
    a = rand(); b = rand(); c = rand(); col = colours[int(rand() * 3) + 1]; sz = sizes[int(rand() * 4) + 1];
    n = int(rand() * 50) - 20; y = (a + b > 1 || col == "red" || sz == "10") ? "pos" : "neg";
    as = sprintf("%.4f", a); if (rand() < 0.08) as = "";
    cs = sprintf("%.3f", c); if (rand() < 0.05) cs = (rand() < 0.5) ? "NA" : "nan";
    if (rand() < 0.06) col = "";
    printf "%d,%s,%s,%.4f,%s,%d,%s,%s\n", 1000 + i, as, col, b, sz, n, cs, y } }' >"$work/train.csv"
head -1001 "$work/train.csv" >"$work/train-test.csv"
js csv-to-parquet "$work/train.csv" "$work/train.parquet" header || fail "train: DuckDB"
js csv-to-parquet "$work/train-test.csv" "$work/train-test.parquet" header || fail "train test: DuckDB"
train() {  # DATA TEST OUT
  "$fb" train --data "$1" --target y --drop id --trees 10 --seed 3 --threads 1 --out "$3.fbm" \
    --test "$2" --test-output "$3.csv" --keep-columns id >"$3.out" 2>"$3.err" || fail "train $1: $(cat "$3.err")"
}
train "$work/train.csv" "$work/train-test.csv" "$work/trained-csv"
grep -q "7 columns (2 categorical) -> 11 features" "$work/trained-csv.err" || fail "train csv: $(cat "$work/trained-csv.err")"
for v in "" -v2; do
  train "$work/train$v.parquet" "$work/train-test$v.parquet" "$work/trained-pq$v"
  cmp -s "$work/trained-csv.fbm" "$work/trained-pq$v.fbm" || fail "train$v.parquet: another model than from CSV"
  cmp -s "$work/trained-csv.csv" "$work/trained-pq$v.csv" || fail "train$v.parquet: other test predictions than from CSV"
  cmp -s "$work/trained-csv.out" "$work/trained-pq$v.out" || fail "train$v.parquet: other test metrics than from CSV"
done
# A Parquet file is found by its magic whatever its name; a broken one is an error naming it.
cp "$work/train.parquet" "$work/train-noext.dat"
"$fb" train --data "$work/train-noext.dat" --target y --drop id --trees 10 --seed 3 --threads 1 --out "$work/noext.fbm" 2>/dev/null &&
  cmp -s "$work/trained-csv.fbm" "$work/noext.fbm" || fail "train: a Parquet file without .parquet"
head -c 3000 "$work/train.parquet" >"$work/train-cut.parquet"
"$fb" train --data "$work/train-cut.parquet" --target y --trees 10 --out "$work/cut.fbm" 2>"$work/err"
[[ $? -eq 3 ]] && grep -q "train-cut.parquet" "$work/err" || fail "train: a truncated Parquet file: $(cat "$work/err")"

if ((failures)); then echo "$failures failures" >&2; exit 1; fi
echo "parquet interop: all passed"
