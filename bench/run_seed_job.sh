#!/usr/bin/env bash
# bench/run_seed_job.sh BUILD_DIR: the seed's benchmark on this machine.
#
# Input: 100 copies (FB_SEED_FILES to change) of the seed's 319,207-row file
# (31 copies of examples/seed/test-data1-small.csv each), cached under
# bench/data/seed/ (gitignored). Then, in the same run:
#   1. forestbatch run --workers 2 --format seed --header yes over all files
#      (the seed's output, reading the first row as pandas does; files per
#      minute, peak RSS);
#   2. the seed's way: its own entrypoint script and predict.py
#      (examples/seed/reference/: sorted list, ceil(files/N) contiguous files
#      per worker, one `python predict.py IN OUT` per file) as 2 array tasks
#      on FB_SEED_PY_FILES (default 4) of the files.
#   3. a cold read: the first FB_SEED_COLD_FILES (default 10) files run with their pages dropped
#      from the page cache first, then warm.
# Prints a table in the seed's Table 1 shape.
set -euo pipefail
build=$(cd "${1:?usage: bench/run_seed_job.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
n=${FB_SEED_FILES:-100}
py_files=${FB_SEED_PY_FILES:-4}
workers=${FB_SEED_WORKERS:-2}
fb="$build/forestbatch"
py=/usr/bin/python3
data="$root/bench/data/seed"
work="$root/bench/out/seed-job"

mkdir -p "$data"
one="$data/test-data1.csv"
if [[ ! -s $one ]]; then
  for _ in $(seq 31); do cat "$root/examples/seed/test-data1-small.csv"; done > "$one.tmp"
  mv "$one.tmp" "$one"
fi
for i in $(seq 2 "$n"); do [[ -s $data/test-data$i.csv ]] || cp "$one" "$data/test-data$i.csv"; done
# Exactly n files in the input folder (a smaller FB_SEED_FILES after a bigger one).
in="$work/input"
rm -rf "$work"
mkdir -p "$in" "$work/seed"
for i in $(seq 1 "$n"); do ln "$data/test-data$i.csv" "$in/test-data$i.csv" 2>/dev/null || cp "$data/test-data$i.csv" "$in/"; done
echo "input: $n files of $(wc -l < "$one") rows ($(du -sh "$data" | cut -f1) cached in $data)"

# measure NAME CMD...: wall seconds and peak RSS (largest process of the tree, MiB).
measure() {
  local name=$1
  shift
  "$py" - "$name" "$@" <<'PY'
import resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
rc = subprocess.call(cmd)
dt = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{name} {dt:.3f} {ru.ru_maxrss / 1024:.0f} {rc} {ru.ru_utime + ru.ru_stime:.3f}")
PY
}

# 1. forestbatch
# Inputs from the page cache, as both runs get them: this measures the job, not the disk (the
# seed read its inputs from S3 through a shared file system).
cat "$in"/* > /dev/null
fb_line=$(measure forestbatch "$fb" run --model "$root/examples/seed/model.joblib" --input "$in" \
  --output "$work/fb-out" --workers "$workers" --state "$work/state" --progress lines --format seed --header yes | tail -1)
read -r _ fb_s fb_rss fb_rc fb_cpu <<< "$fb_line"
[[ $fb_rc == 0 ]] || { echo "forestbatch run failed (exit $fb_rc)"; exit 1; }
fb_files=$(find "$work/fb-out" -type f ! -name '.*' | wc -l)

# 2. the seed: its own entrypoint and predict.py (examples/seed/reference/, unchanged), one
# background process per array task with the variables AWS Batch sets, `python` being Debian's
# python3 (scikit-learn, pandas, joblib), outputs in OUTPUT_DIR/<job id>/ as the seed writes them.
seed_dir=$work/seed
cp "$root/examples/seed/model.joblib" "$root/examples/seed/reference/predict.py" "$seed_dir/"
mkdir -p "$seed_dir/in" "$seed_dir/out" "$seed_dir/bin"
ln -sf "$py" "$seed_dir/bin/python"
for i in $(seq 1 "$py_files"); do ln "$in/test-data$i.csv" "$seed_dir/in/" 2>/dev/null || cp "$in/test-data$i.csv" "$seed_dir/in/"; done
cat > "$seed_dir/array.sh" <<SH
#!/usr/bin/env bash
# One array task per background job, as AWS Batch would run them.
set -e
cd "$seed_dir"
for idx in \$(seq 0 $((workers - 1))); do
  PATH="$seed_dir/bin:\$PATH" INPUT_DIR=in OUTPUT_DIR=out NUMBER_OF_WORKERS=$workers \\
    AWS_BATCH_JOB_ARRAY_INDEX=\$idx AWS_BATCH_JOB_ID=seed-job:\$idx \\
    "$root/examples/seed/reference/entrypoint" > /dev/null 2>&1 &
done
wait
SH
chmod +x "$work/seed/array.sh"
seed_line=$(measure seed "$work/seed/array.sh" | tail -1)
read -r _ seed_s seed_rss seed_rc _ <<< "$seed_line"
[[ $seed_rc == 0 ]] || { echo "seed run failed (exit $seed_rc)"; exit 1; }

same=yes
seed_outputs=$(find "$work/seed/out" -type f | wc -l)
[[ $seed_outputs == "$py_files" ]] || same="no ($seed_outputs of $py_files outputs)"
for f in "$work"/seed/out/*/*; do cmp -s "$f" "$work/fb-out/$(basename "$f")" || same=no; done

"$py" - "$workers" "$n" "$fb_s" "$fb_rss" "$fb_files" "$py_files" "$seed_s" "$seed_rss" "$same" "$fb_cpu" <<'PY'
import sys
w, n, fs, frss, ffiles, pn, ss, srss, same, fcpu = sys.argv[1:]
w, n, ffiles, pn = int(w), int(n), int(ffiles), int(pn)
fs, ss = float(fs), float(ss)
def t(s):
    return f"{int(s // 60)}m {s % 60:.1f}s"
rows = [
    ("forestbatch run", w, n, -(-n // w), t(fs), f"{n / fs * 60:.0f}", f"{frss} MiB"),
    ("seed entrypoint + predict.py", w, pn, -(-pn // w), t(ss), f"{pn / ss * 60:.1f}", f"{srss} MiB"),
]
head = ("job", "workers", "input files", "files per worker", "total time", "files per minute", "peak RSS")
width = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
print("| " + " | ".join(str(h).ljust(width[i]) for i, h in enumerate(head)) + " |")
print("|" + "|".join("-" * (x + 2) for x in width) + "|")
for r in rows:
    print("| " + " | ".join(str(v).rjust(width[i]) for i, v in enumerate(r)) + " |")
print(f"speed-up per file: {(n / fs) / (pn / ss):.0f}x; outputs of the seed's files identical to forestbatch --format seed: {same}")
print(f"forestbatch outputs: {ffiles} of {n} files; {float(fcpu) / n * 1000:.0f} ms of CPU a file (every "
      f"process of the run, user + system), {fs / -(-n // w) * 1000:.0f} ms of wall time a file per worker")
PY

# A cold read (issue 17: "say what a cold read gives"): the first FB_SEED_COLD_FILES (default 10)
# inputs with their pages dropped from the page cache (posix_fadvise DONTNEED, which needs no
# privileges and leaves the rest of the cache alone), run as above, then the same files again warm.
cold_n=${FB_SEED_COLD_FILES:-10}
(( cold_n <= n )) || cold_n=$n
if (( cold_n > 0 )); then
  cin="$work/cold-input"
  mkdir -p "$cin"
  for i in $(seq 1 "$cold_n"); do ln "$in/test-data$i.csv" "$cin/" 2>/dev/null || cp "$in/test-data$i.csv" "$cin/"; done
  "$py" - "$cin"/* <<'PY'
import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
PY
  lines=()
  for temp in cold warm; do
    lines+=("$(measure "$temp" "$fb" run --model "$root/examples/seed/model.joblib" --input "$cin" \
      --output "$work/$temp-out" --workers "$workers" --state "$work/$temp-state" --progress none --format seed \
      --header yes | tail -1)")
  done
  "$py" - "$cold_n" "${lines[@]}" <<'PY'
import sys
n = int(sys.argv[1])
got = {}
for line in sys.argv[2:]:
    name, wall, _, rc, cpu = line.split()
    if rc != "0":
        sys.exit(f"the {name} run failed (exit {rc})")
    got[name] = (float(wall), float(cpu))
(cw, cc), (ww, wc) = got["cold"], got["warm"]
print(f"cold read: {n} files with their pages dropped first: {cw:.2f} s wall, {cc / n * 1000:.0f} ms of CPU a file; "
      f"the same files warm right after: {ww:.2f} s, {wc / n * 1000:.0f} ms a file")
PY
fi

# One file, and the fixed cost (issue 17: one seed file in 50 ms with 2 threads): `forestbatch
# predict -j 2` on one seed file, on its first row alone, and `forestbatch --version` (process
# start), FB_ONE_RUNS (default 21) runs each taking turns; medians of the wall time and of the
# process's CPU time (user + system, from its rusage).
"$py" - "$fb" "$root/examples/seed/model.joblib" "$one" "$work" "${FB_ONE_RUNS:-21}" <<'PY'
import os, statistics, subprocess, sys, time
fb, model, one, work, runs = sys.argv[1:6]
first = os.path.join(work, "one-row.csv")
with open(one) as f, open(first, "w") as g:
    g.write(f.readline() + f.readline())
cases = [("one seed file, predict -j 2", [fb, "predict", "-q", "-m", model, "-i", one, "-o", os.path.join(work, "one.csv"), "-j", "2"]),
         ("its first row alone, predict -j 2", [fb, "predict", "-q", "-m", model, "-i", first, "-o", os.path.join(work, "one-row-out.csv"), "-j", "2"]),
         ("forestbatch --version", [fb, "--version"])]
got = {name: [] for name, _ in cases}
for _ in range(int(runs)):
    for name, cmd in cases:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed")
        got[name].append((time.monotonic() - t0, ru.ru_utime + ru.ru_stime))
for name, _ in cases:
    wall = statistics.median(w for w, _ in got[name]) * 1000
    cpu = statistics.median(c for _, c in got[name]) * 1000
    best = min(w for w, _ in got[name]) * 1000
    print(f"{name}: {wall:.1f} ms wall (median of {runs}; best {best:.1f}), {cpu:.1f} ms of CPU")
PY
