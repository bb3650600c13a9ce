#!/bin/bash
# End to end: forestbatch train -> .fbm -> model inspect / predict, tune, and
# error paths. Data made here with awk (deterministic), no Python.
#   run_e2e.sh FORESTBATCH
set -euo pipefail
FB=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# y = yes when a + b > 1 (a, b pseudo-random in [0,1)); c is noise; a
# categorical column colour where "red" forces yes.
gen() {  # gen N SEED FILE [with_target]
  awk -v n="$1" -v seed="$2" -v tgt="$4" 'BEGIN {
    srand(seed);
    printf "a,b,c,colour%s\n", tgt ? ",y" : "";
    split("red green blue", cols, " ");
    for (i = 0; i < n; i++) {
      a = rand(); b = rand(); c = rand(); col = cols[int(rand() * 3) + 1];
      y = (a + b > 1 || col == "red") ? "yes" : "no";
      printf "%.4f,%.4f,%.4f,%s%s\n", a, b, c, col, tgt ? "," y : "";
    }
  }' > "$3"
}
gen 3000 1 "$W/train.csv" 1
gen 500 2 "$W/test.csv" 1

"$FB" train --data "$W/train.csv" --target y --out "$W/m.fbm" --trees 30 --seed 7 --threads 2 \
  --test "$W/test.csv" > "$W/train.out" 2> "$W/train.err" || { cat "$W/train.err"; fail "train"; }
acc=$(sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' "$W/train.out")
awk -v a="$acc" 'BEGIN { exit !(a > 0.93) }' || fail "held-out accuracy $acc <= 0.93"
grep -q "colour (3 categories)" <("$FB" model inspect "$W/m.fbm") || fail "inspect lacks the input encoding"
grep -q "importances:" <("$FB" model inspect "$W/m.fbm") || fail "inspect lacks importances"
# train writes .fbm 1.5 with its compiled layout, which a load reads instead of compiling.
grep -q "layout: *stored, checked and read in place" <("$FB" model inspect "$W/m.fbm") ||
  fail "the trained model lacks its compiled layout"
"$FB" model inspect --json "$W/m.fbm" | grep -q '"n_estimators": "30"' || fail "inspect --json lacks params"

# Same seed, same bytes (whatever the thread count); another seed differs.
"$FB" train --data "$W/train.csv" --target y --out "$W/m2.fbm" --trees 30 --seed 7 --threads 1 2> /dev/null
cmp -s "$W/m.fbm" "$W/m2.fbm" || fail "same seed gave a different model"
"$FB" train --data "$W/train.csv" --target y --out "$W/m3.fbm" --trees 30 --seed 8 2> /dev/null
cmp -s "$W/m.fbm" "$W/m3.fbm" && fail "another seed gave the same model"

# A numeric-only model predicts through `predict` by column name (the
# target column and text columns are ignored).
cut -d, -f1-3,5 "$W/train.csv" > "$W/train_num.csv"
cut -d, -f1-3 "$W/test.csv" > "$W/test_num.csv"
"$FB" train --data "$W/train_num.csv" --target y --out "$W/num.fbm" --trees 20 2> /dev/null
"$FB" predict --model "$W/num.fbm" --input "$W/test_num.csv" --output "$W/pred.csv" --quiet || fail "predict"
[ "$(wc -l < "$W/pred.csv")" -eq 501 ] || fail "predict wrote $(wc -l < "$W/pred.csv") lines"
# Agreement with the truth (a + b > 1) on non-red rows; the model never saw
# colour, so the red rows it learnt from blur it a little.
right=$(paste -d, "$W/test.csv" <(tail -n +1 "$W/pred.csv") | awk -F, 'NR > 1 && $4 != "red" {
  n++; if ($5 == $6) r++ } END { printf "%.3f", r / n }')
awk -v r="$right" 'BEGIN { exit !(r > 0.85) }' || fail "predict agreement $right"

# Regression and cross-validation.
awk -F, 'NR == 1 { print "a,b,c,t"; next } { printf "%s,%s,%s,%.4f\n", $1, $2, $3, 3 * $1 - $2 }' \
  "$W/train.csv" > "$W/reg.csv"
"$FB" train --data "$W/reg.csv" --target t --cv 3 --trees 20 > "$W/cv.out" 2> /dev/null
[ "$(grep -c '^fold' "$W/cv.out")" -eq 3 ] || fail "cv folds"
r2=$(sed -n 's/^mean:.*r2 \([0-9.-]*\).*/\1/p' "$W/cv.out")
awk -v r="$r2" 'BEGIN { exit !(r > 0.95) }' || fail "cv r2 $r2"

# tune: grid x folds, best refit written.
"$FB" tune --data "$W/train.csv" --target y --grid 'max_depth=1,none;trees=10' --cv 3 --jobs 2 \
  --out "$W/best.fbm" > "$W/tune.out" 2> "$W/tune.err" || { cat "$W/tune.err"; fail "tune"; }
grep -q "rank   1 .*max_depth=none" "$W/tune.out" || { cat "$W/tune.out"; fail "tune best"; }
[ -s "$W/best.fbm" ] || fail "tune wrote no model"

# Errors: unknown target (usage, 2), bad hyperparameter (2), ragged CSV (data, 3).
set +e
"$FB" train --data "$W/train.csv" --target nope --out "$W/x.fbm" 2> /dev/null; [ $? -eq 2 ] || fail "unknown target"
"$FB" train --data "$W/train.csv" --target y --max-depth -3 --out "$W/x.fbm" 2> /dev/null
[ $? -eq 2 ] || fail "bad max depth"
printf 'a,y\n1,no\n2\n' > "$W/bad.csv"
"$FB" train --data "$W/bad.csv" --target y --out "$W/x.fbm" 2> "$W/bad.err"; [ $? -eq 3 ] || fail "ragged csv"
grep -q "bad.csv:3" "$W/bad.err" || fail "ragged csv error lacks its line"
set -e
echo "train e2e: ok"
