#!/bin/bash
# End to end: tune's (grid point, fold) tasks as separate processes give the
# in-process tune's table and model byte for byte: `tune --workers` (local
# worker processes through the runner), and `tune plan` + `run --exec` +
# `tune collect` with one task killed mid-run (the runner reruns it, and only
# it). Also: resuming a finished tune, collect with a missing result.
#   tune_array_e2e.sh FORESTBATCH
set -euo pipefail
FB=$1
W=$(mktemp -d)
RUN_PID=
trap '[ -n "$RUN_PID" ] && kill "$RUN_PID" 2> /dev/null; rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

awk 'BEGIN { srand(5); print "a,b,c,colour,y"; split("red green blue", cols, " ");
  for (i = 0; i < 6000; i++) {
    a = rand(); b = rand(); c = rand(); col = cols[int(rand() * 3) + 1];
    if (rand() < 0.05) a = "NA";
    printf "%s,%.4f,%.4f,%s,%s\n", a, b, c, col, (a != "NA" && a + b > 1 || col == "red") ? "yes" : "no";
  } }' > "$W/train.csv"
GRID='max_depth=2,none;max_features=1,2'
TUNE=("$FB" tune --data "$W/train.csv" --target y --grid "$GRID" --cv 3 --trees 15 --seed 4)

# In this process (the reference).
"${TUNE[@]}" --jobs 2 --out "$W/ref.fbm" > "$W/ref.out" 2> "$W/ref.err" || { cat "$W/ref.err"; fail "tune"; }
[ "$(grep -c '^rank' "$W/ref.out")" -eq 4 ] || fail "tune table"

# As local worker processes; then again (everything already done).
"${TUNE[@]}" --workers 2 --dir "$W/t1" --state "$W/state" --out "$W/w.fbm" > "$W/w.out" 2> "$W/w.err" ||
  { cat "$W/w.err"; fail "tune --workers"; }
cmp "$W/ref.out" "$W/w.out" || fail "tune --workers printed another table"
cmp "$W/ref.fbm" "$W/w.fbm" || fail "tune --workers refitted another model"
[ "$(ls "$W/t1/results" | wc -l)" -eq 12 ] || fail "results of tune --workers"
grep -q "^rank,max_depth,max_features,mean_roc_auc,fold_1,fold_2,fold_3$" "$W/t1/table.csv" || fail "table.csv"
# (With another worker count: the task command, the outputs' fingerprint, is the same.)
"${TUNE[@]}" --workers 1 --dir "$W/t1" --state "$W/state" --out "$W/w2.fbm" > "$W/w2.out" 2> "$W/w2.err"
grep -q "(0 tasks run now, 12 already done)" "$W/w2.err" || { cat "$W/w2.err"; fail "resume of a done tune"; }
cmp "$W/ref.fbm" "$W/w2.fbm" || fail "resumed tune refitted another model"

# Step by step, with task 3 killed (SIGKILL) while it runs: each task
# sleeps 1 s first, through a shell, so the kill always lands mid-task.
"$FB" tune plan --data "$W/train.csv" --target y --grid "$GRID" --cv 3 --trees 15 --seed 4 --dir "$W/t2" \
  > "$W/plan.out" 2> /dev/null || fail "tune plan"
grep -q "planned 12 tasks (4 grid points x 3 folds)" "$W/plan.out" || fail "plan output"
grep -q "forestbatch tune collect --dir $W/t2" "$W/plan.out" || fail "plan output lacks the next steps"
"$FB" run --name tune --workers 2 --backoff 0.1 --state "$W/state" --progress none --input "$W/t2/tasks" \
  --output "$W/t2/results" --shell --exec "sleep 1; exec '$FB' tune task {input} {output} --threads 1" \
  > "$W/run.out" 2>&1 &
RUN_PID=$!
victim=
for _ in $(seq 1 3000); do
  # --shell passes the paths in the environment (FB_INPUT), not in the script.
  for p in $(pgrep -f "^/bin/sh -c sleep 1; exec .* tune task" || true); do
    if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -q "^FB_INPUT=.*/t2/tasks/task-00003.json$"; then
      victim=$p
      break
    fi
  done
  [ -n "$victim" ] && break
  sleep 0.01
done
[ -n "$victim" ] || fail "task 3 never started"
kill -9 $victim
wait "$RUN_PID" || { cat "$W/run.out"; fail "run of the tune tasks"; }
RUN_PID=
grep -q '"attempts": 2' "$W/t2/results/.task-00003.json.fbmanifest.json" || fail "task 3 was not rerun"
for t in 00000 00001 00002 00004 00005 00006 00007 00008 00009 00010 00011; do
  grep -q '"attempts": 1' "$W/t2/results/.task-$t.json.fbmanifest.json" || fail "task $t ran more than once"
done
[ "$(ls -A "$W/t2/results" | grep -c fbtmp)" -eq 0 ] || fail "temporaries left"
"$FB" tune collect --dir "$W/t2" --out "$W/c.fbm" > "$W/c.out" 2> "$W/c.err" || { cat "$W/c.err"; fail "collect"; }
cmp "$W/ref.out" "$W/c.out" || fail "collect printed another table"
cmp "$W/ref.fbm" "$W/c.fbm" || fail "collect refitted another model"

# A missing result: collect says which.
rm "$W/t2/results/task-00007.json"
set +e
"$FB" tune collect --dir "$W/t2" --out "$W/x.fbm" 2> "$W/miss.err"
[ $? -eq 3 ] || fail "collect with a missing result: exit code"
set -e
grep -q "1 of the 12 tasks have no result yet: 7" "$W/miss.err" || { cat "$W/miss.err"; fail "missing result"; }
[ -e "$W/x.fbm" ] && fail "collect wrote a model without every result"
echo "tune array e2e: ok"
