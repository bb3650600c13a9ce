#!/usr/bin/env bash
# forestbatch with S3 end to end (run under with_s3rver.sh):
#   inputs and the model uploaded with `aws s3 cp`, predicted by forestbatch
#   from s3:// to s3://, outputs downloaded with `aws s3 cp` must equal a
#   local run's byte for byte; then the same for `forestbatch run` when the
#   binary has it; then `worker --schedule dynamic`: refused on s3rver, which
#   ignores `If-None-Match: *` (the probe must catch it), and working with
#   its claims on a shared folder (--claims) while inputs and outputs stay in S3.
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
if "$fb" worker --help 2>/dev/null | grep -q -- --schedule; then
  echo "== worker --schedule dynamic: s3rver has no conditional PUT"
  set +e
  "$fb" worker --model "$b/models/model.joblib" --input "$b/in/" --output "$b/dyn/" --format seed \
    --schedule dynamic --job s3dyn 2> "$work/dyn.err"
  rc=$?
  set -e
  cat "$work/dyn.err"
  [[ $rc -eq 4 ]] || { echo "FAIL: dynamic worker on s3rver exited $rc, not 4 (unsupported)"; exit 1; }
  grep -q "If-None-Match" "$work/dyn.err" && grep -q -- "--schedule static" "$work/dyn.err"
  # (An empty prefix makes `aws s3 ls` exit 1 without output.)
  left=$(/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls --recursive "$b/dyn/" 2>&1 || true)
  [[ -z $left ]] || { echo "FAIL: the refused worker left objects: $left"; exit 1; }
  echo "== worker --schedule dynamic: claims on a shared folder, data in S3"
  pids=()
  for i in 0 1; do
    "$fb" worker --model "$b/models/model.joblib" --input "$b/in/" --output "$b/dyn/" --format seed \
      --schedule dynamic --claims "$work/claims" --index $i --count 2 > "$work/dyn-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  aws s3 cp --recursive "$b/dyn/" "$work/dyn-s3/"
  (cd "$work/dyn-s3" && find . -type f -name '*.csv' -not -path '*/.*' | sort) > "$work/dyn.list"
  diff "$work/dyn.list" <(cd "$work/out-local" && find . -type f -name '*.csv' | sort)
  while read -r f; do cmp "$work/out-local/$f" "$work/dyn-s3/$f"; done < "$work/dyn.list"
  [[ $(grep -l '"state":"done"' "$work"/claims/*.claim | wc -l) -eq 3 ]]
fi
echo "forestbatch S3 end to end: ok"
