#!/usr/bin/env bash
# forestbatch with S3 end to end (run under with_s3rver.sh):
#   inputs and the model uploaded with `aws s3 cp`, predicted by forestbatch
#   from s3:// to s3://, outputs downloaded with `aws s3 cp` must equal a
#   local run's byte for byte; then the same for `forestbatch run` when the
#   binary has it.
#   tests/s3/forestbatch_s3_e2e.sh FORESTBATCH SOURCE_DIR
set -euo pipefail
fb=$1
src=$2
source "$src/tests/harness/fbtest.sh"
[[ -x /usr/bin/aws ]] || fb_missing awscli "/usr/bin/aws is not installed (Debian package awscli)"
work=$(mktemp -d "${TMPDIR:-/tmp}/fb-s3-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --only-show-errors "$@"; }
b="s3://$FB_TEST_S3_BUCKET"

seed=$src/examples/seed/test-data1-small.csv
mkdir -p "$work/in/sub dir"
head -n 3000 "$seed" > "$work/in/a.csv"
tail -n 4000 "$seed" > "$work/in/sub dir/b+c.csv"
cp "$seed" "$work/in/seed.csv"
aws s3 cp --recursive "$work/in" "$b/in/"
aws s3 cp "$src/examples/seed/model.joblib" "$b/models/model.joblib"

echo "== predict: local vs s3"
"$fb" predict --model "$src/examples/seed/model.joblib" --input "$work/in/" --output "$work/out-local/" --format seed
"$fb" predict --model "$b/models/model.joblib" --input "$b/in/" --output "$b/out/" --format seed
aws s3 cp --recursive "$b/out/" "$work/out-s3/"
diff -r "$work/out-local" "$work/out-s3"
[[ $(find "$work/out-s3" -type f | wc -l) -eq 3 ]]

if "$fb" run --help >/dev/null 2>&1; then
  echo "== run: local vs s3"
  "$fb" run --model "$src/examples/seed/model.joblib" --input "$work/in/" --output "$work/run-local/" \
    --format seed --state "$work/state-local" --progress none
  "$fb" run --model "$b/models/model.joblib" --input "$b/in/" --output "$b/run/" \
    --format seed --state "$work/state-s3" --progress none
  aws s3 cp --recursive "$b/run/" "$work/run-s3/"
  # Prediction files must match; job records (timings, ids) may differ.
  (cd "$work/run-local" && find . -type f -name '*.csv' -not -path './_*' | sort) > "$work/local.list"
  (cd "$work/run-s3" && find . -type f -name '*.csv' -not -path './_*' | sort) > "$work/s3.list"
  diff "$work/local.list" "$work/s3.list"
  [[ $(wc -l < "$work/s3.list") -eq 3 ]]
  while read -r f; do cmp "$work/run-local/$f" "$work/run-s3/$f"; done < "$work/s3.list"
fi
echo "forestbatch S3 end to end: ok"
