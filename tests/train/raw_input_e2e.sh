#!/bin/bash
# End to end: a model trained on raw CSV with categorical and numeric columns
# and missing values predicts from raw CSV (columns by name, any order, extra
# columns ignored) through `predict` and `run`, exactly as it predicts the
# same rows already expanded to its features (get_dummies' layout) and as
# `train --test` scores them with the trainer's own encoder. Unseen
# categories and missing values behave as docs/train.md says. Data made here
# with awk (deterministic), no Python.
#   raw_input_e2e.sh FORESTBATCH
set -euo pipefail
FB=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Columns a, colour, b, size, y: y = yes when a + b > 1, or colour is red, or
# size is "10" (a number-looking category). a and colour are sometimes
# missing (empty, NA, nan). The test file (second form) has its columns in
# another order, an extra id column, and categories never seen in training
# (purple, XL).
gen() {  # gen N SEED FILE train|test
  awk -v n="$1" -v seed="$2" -v kind="$4" 'BEGIN {
    srand(seed);
    split("red green blue", colours, " "); split("S M L 10", sizes, " ");
    split(" NA nan", missing, " ");  # "", "NA", "nan"
    if (kind == "train") print "a,colour,b,size,y"; else print "id,size,y,b,colour,a";
    for (i = 0; i < n; i++) {
      a = rand(); b = rand();
      col = colours[int(rand() * 3) + 1]; sz = sizes[int(rand() * 4) + 1];
      if (kind == "test" && rand() < 0.05) col = "purple";
      if (kind == "test" && rand() < 0.05) sz = "XL";
      y = (a + b > 1 || col == "red" || sz == "10") ? "yes" : "no";
      as = sprintf("%.4f", a);
      if (rand() < 0.08) as = (rand() < 0.5) ? "" : "NA";
      if (rand() < 0.06) col = (rand() < 0.5) ? "" : "nan";
      if (kind == "train") printf "%s,%s,%.4f,%s,%s\n", as, col, b, sz, y;
      else printf "r%d,%s,%s,%.4f,\"%s\",%s\n", i, sz, y, b, col, as;
    }
  }' > "$3"
}
gen 4000 11 "$W/train.csv" train
gen 1500 12 "$W/test.csv" test
grep -q purple "$W/test.csv" && grep -q ',XL,' "$W/test.csv" || fail "test data lacks unseen categories"

"$FB" train --data "$W/train.csv" --target y --out "$W/m.fbm" --trees 25 --seed 3 --threads 2 \
  --test "$W/test.csv" --test-output "$W/train_test.csv" > "$W/train.out" 2> "$W/train.err" ||
  { cat "$W/train.err"; fail "train"; }
grep -q "read .*5 columns (2 categorical) -> 9 features" "$W/train.err" || { cat "$W/train.err"; fail "encoding"; }
acc=$(sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' "$W/train.out")
awk -v a="$acc" 'BEGIN { exit !(a > 0.9) }' || fail "held-out accuracy $acc <= 0.9"

# The features, as the model names them: numeric columns first, then one
# indicator per category in byte order.
names='a,b,colour_blue,colour_green,colour_red,size_10,size_L,size_M,size_S'
"$FB" model inspect "$W/m.fbm" | grep -q "features: *9: ${names//,/, }" || fail "feature names"

# The test rows expanded by hand: missing -> empty (NaN), indicators 0/1,
# unseen and missing categories all zero.
awk -F, 'NR == 1 { print "'"$names"'"; next } {
  gsub(/"/, "", $5);
  a = ($6 == "" || $6 == "NA" || $6 == "nan") ? "" : $6;
  printf "%s,%s,%d,%d,%d,%d,%d,%d,%d\n", a, $4, $5 == "blue", $5 == "green", $5 == "red",
    $2 == "10", $2 == "L", $2 == "M", $2 == "S";
}' "$W/test.csv" > "$W/expanded.csv"

"$FB" predict -q --model "$W/m.fbm" --input "$W/test.csv" --output "$W/raw_pred.csv" --proba -j 2 ||
  fail "predict on raw columns"
"$FB" predict -q --model "$W/m.fbm" --input "$W/expanded.csv" --output "$W/exp_pred.csv" --proba ||
  fail "predict on expanded features"
[ "$(wc -l < "$W/raw_pred.csv")" -eq 1501 ] || fail "predict wrote $(wc -l < "$W/raw_pred.csv") lines"
cmp "$W/raw_pred.csv" "$W/exp_pred.csv" || fail "raw and expanded inputs predict differently"
cmp "$W/raw_pred.csv" "$W/train_test.csv" || fail "predict differs from train --test's own encoding"
# As documented, an unseen category predicts as a missing one (all indicators 0).
sed -e 's/"purple"/""/' -e 's/^\(r[0-9]*\),XL,/\1,NA,/' "$W/test.csv" > "$W/unseen_as_missing.csv"
! grep -q 'purple\|XL' "$W/unseen_as_missing.csv" || fail "sed left unseen categories"
"$FB" predict -q --model "$W/m.fbm" --input "$W/unseen_as_missing.csv" --output "$W/missing_pred.csv" --proba
cmp "$W/raw_pred.csv" "$W/missing_pred.csv" || fail "unseen categories predict unlike missing ones"

# run: the same file among others in a folder, two worker processes.
mkdir -p "$W/in/sub"
cp "$W/test.csv" "$W/in/test.csv"
head -200 "$W/test.csv" > "$W/in/sub/head.csv"
"$FB" run --model "$W/m.fbm" --input "$W/in" --output "$W/out" --workers 2 --proba \
  --state "$W/state" --progress none > "$W/run.out" 2>&1 || { cat "$W/run.out"; fail "run"; }
cmp "$W/out/test.csv" "$W/raw_pred.csv" || fail "run differs from predict"
cmp "$W/out/sub/head.csv" <(head -200 "$W/raw_pred.csv") || fail "run (second file) differs"

# Errors name file, line and column: text in a numeric column, a missing column.
awk -F, 'NR == 7 { $6 = "old" } { print }' OFS=, "$W/test.csv" > "$W/bad.csv"
cut -d, -f1-4,6 "$W/test.csv" > "$W/nocolour.csv"
set +e
"$FB" predict -q --model "$W/m.fbm" --input "$W/bad.csv" --output "$W/x.csv" 2> "$W/bad.err"
[ $? -eq 3 ] || fail "text in a numeric column: exit code"
grep -q "bad.csv:7:6: not a number: 'old' in column 6 ('a')" "$W/bad.err" || { cat "$W/bad.err"; fail "bad.err"; }
[ -e "$W/x.csv" ] && fail "a failed predict left an output"
"$FB" predict -q --model "$W/m.fbm" --input "$W/nocolour.csv" --output "$W/x.csv" 2> "$W/miss.err"
[ $? -eq 3 ] || fail "missing column: exit code"
grep -q "nocolour.csv:1: the header lacks 1 of the model's 4 input columns: colour" "$W/miss.err" ||
  { cat "$W/miss.err"; fail "miss.err"; }
set -e

# --drop: an id column is not a feature (without it, 4,000 distinct ids would
# become 4,000 one-hot features); --keep-columns puts it in --test-output.
awk -F, 'BEGIN { OFS = "," } NR == 1 { print "id", $0; next } { print "u" NR, $0 }' "$W/train.csv" > "$W/train_id.csv"
"$FB" train --data "$W/train_id.csv" --target y --drop id --out "$W/mid.fbm" --trees 5 --seed 3 --threads 2 \
  --test "$W/test.csv" --test-output "$W/test_id.csv" --keep-columns id 2> "$W/drop.err" > /dev/null
grep -q ": 4000 rows, 5 columns (2 categorical)" "$W/drop.err" || { cat "$W/drop.err"; fail "--drop: features"; }
[ "$(head -1 "$W/test_id.csv")" = "id,prediction,proba_no,proba_yes" ] || fail "--keep-columns header: $(head -1 "$W/test_id.csv")"
[ "$(sed -n 2p "$W/test_id.csv" | cut -d, -f1)" = "r0" ] || fail "--keep-columns value: $(sed -n 2p "$W/test_id.csv")"
set +e
"$FB" train --data "$W/train_id.csv" --target y --drop nope --out "$W/x.fbm" 2> "$W/drop2.err"
[ $? -eq 2 ] || fail "--drop of a missing column: exit code"
grep -q "drop 'nope'" "$W/drop2.err" || { cat "$W/drop2.err"; fail "drop2.err"; }
set -e
echo "raw input e2e: ok"
