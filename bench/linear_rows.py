#!/usr/bin/python3
"""bench/linear_rows.py BUILD_DIR [--update BENCHMARKS.md]: the cost of one `forestbatch predict` by
input size (issue 17: rows/s of one file from 10 k to 100 M rows within 10 % of the best, peak RSS
flat). Run by `make bench` (bench/run.sh; BENCH_LINEAR=0 skips it); runs alone as well.

fb_gen_rows (bench/gen_rows.cc) streams N seed-like rows, never stored (100 M rows are 12 GB),
into `forestbatch predict --input -` with the seed model (examples/seed/model.joblib), 2 threads,
the predictions to /dev/null (written in place: docs/predict.md). Measured for predict alone: wall
seconds (from start to exit), CPU seconds (user + system) and peak RSS, of predict alone (through
bench/rusage.cc, fb_rusage: a child of Python starts with Python's peak RSS); the generator runs
beside it on the same cores. A 1-row run measures the fixed cost (process start, model load). Each
size runs BENCH_LINEAR_REPS times (default 5; 3 from 10 M rows, 2 from 100 M), interleaved: every
size once, then every size again. Sizes: BENCH_LINEAR_ROWS (default
"1 10000 100000 1000000 10000000 100000000").

Then the same 10,000-row size as files inside one long-lived `forestbatch run` (process start and
model load paid once per worker, not per file): BENCH_LINEAR_FILES files (default 40; 0 skips it) of
10,000 generated rows each, written once to BUILD_DIR/bench-data/linear-files/, and `run --workers 1
--threads 2 --header no` over 1 of them and over all of them, each into a fresh output and state
folder (outputs written, fsynced and recorded as `run` always does), BENCH_LINEAR_REPS times
(default 5), interleaved. The cost of one more file is the difference of the two medians divided
by the files added (CPU: user + system of run and its worker; wall: likewise from the best runs).

Writes BUILD_DIR/bench-data/linear.tsv (linear, rows, wall s, user s, system s, peak RSS KiB; and
runfiles, files, wall s, user s, system s, peak RSS KiB, rows per file); with --update,
`bench/report.py --linear` writes its tables into BENCHMARKS.md.
"""
import argparse, os, shutil, subprocess, sys, time

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("build")
ap.add_argument("--update", help="BENCHMARKS.md to write the table into")
a = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(a.build)
fb = os.path.join(build, "forestbatch")
if not os.access(fb, os.X_OK):
    fb = os.path.join(build, "src", "cli", "forestbatch")
gen = os.path.join(build, "bench", "fb_gen_rows")
model = os.path.join(root, "examples", "seed", "model.joblib")
template = os.path.join(root, "examples", "seed", "test-data1-small.csv")
sizes = [int(x) for x in os.environ.get("BENCH_LINEAR_ROWS", "1 10000 100000 1000000 10000000 100000000").split()]
def reps(n):
    if os.environ.get("BENCH_LINEAR_REPS"): return int(os.environ["BENCH_LINEAR_REPS"])
    return 2 if n >= 100_000_000 else 3 if n >= 10_000_000 else 5
os.makedirs(os.path.join(build, "bench-data"), exist_ok=True)
out_path = os.path.join(build, "bench-data", "linear.tsv")

rusage = os.path.join(build, "bench", "fb_rusage")
usage_path = os.path.join(build, "bench-data", "linear-usage.txt")

def run(n):
    # predict's own figures come from fb_rusage (bench/rusage.cc): wait4 from here would report at
    # least this Python process's resident size, which Linux carries across the child's exec.
    g = subprocess.Popen([gen, str(n), template], stdout=subprocess.PIPE)
    p = subprocess.Popen([rusage, usage_path, fb, "predict", "-q", "--model", model, "--input", "-", "--output",
                          "/dev/null", "--threads", "2", "--header", "no"], stdin=g.stdout)
    g.stdout.close()  # predict holds the pipe's read end
    if p.wait() != 0 or g.wait() != 0:
        sys.exit(f"linear_rows: {n} rows: fb_gen_rows exit {g.returncode}, fb_rusage exit {p.returncode}")
    code, wall, user, sys_s, rss = open(usage_path).read().split()
    if code != "0":
        sys.exit(f"linear_rows: {n} rows: predict exit {code}")
    return float(wall), float(user), float(sys_s), int(rss)

with open(out_path, "w") as out:
    for r in range(max(reps(n) for n in sizes)):
        for n in sizes:
            if r >= reps(n): continue
            wall, user, sys_s, rss = run(n)
            line = f"linear\t{n}\t{wall:.4f}\t{user:.4f}\t{sys_s:.4f}\t{rss}"
            print(line, flush=True)
            out.write(line + "\n")
# 10,000-row files inside one `run` (see the docstring).
files_n = int(os.environ.get("BENCH_LINEAR_FILES", "40"))
file_rows = 10_000
if files_n > 1:
    fdir = os.path.join(build, "bench-data", "linear-files")
    one_dir, all_dir = os.path.join(fdir, "one"), os.path.join(fdir, "all")
    shutil.rmtree(fdir, ignore_errors=True)
    os.makedirs(one_dir)
    os.makedirs(all_dir)
    for i in range(files_n):
        path = os.path.join(all_dir, f"rows{i:04d}.csv")
        with open(path, "wb") as f:
            subprocess.run([gen, str(file_rows), template], stdout=f, check=True)
    os.link(os.path.join(all_dir, "rows0000.csv"), os.path.join(one_dir, "rows0000.csv"))

    def run_files(folder, k):
        work = os.path.join(fdir, "work")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        t0 = time.perf_counter()
        p = subprocess.Popen([fb, "run", "--model", model, "--input", folder, "--output", os.path.join(work, "out"),
                              "--state", os.path.join(work, "state"), "--workers", "1", "--threads", "2",
                              "--header", "no", "--progress", "none"], stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"linear_rows: run over {k} files of {file_rows} rows: exit {os.waitstatus_to_exitcode(status)}")
        made = len([n for n in os.listdir(os.path.join(work, "out")) if not n.startswith(".")])
        if made != k:
            sys.exit(f"linear_rows: run over {k} files made {made} outputs")
        return wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss

    reps_files = int(os.environ.get("BENCH_LINEAR_REPS", "5"))
    with open(out_path, "a") as out:
        for r in range(reps_files):
            for folder, k in ((one_dir, 1), (all_dir, files_n)):
                wall, user, sys_s, rss = run_files(folder, k)
                line = f"runfiles\t{k}\t{wall:.4f}\t{user:.4f}\t{sys_s:.4f}\t{rss}\t{file_rows}"
                print(line, flush=True)
                out.write(line + "\n")
    shutil.rmtree(fdir, ignore_errors=True)
if a.update:
    subprocess.run([sys.executable, os.path.join(root, "bench", "report.py"), "--linear", out_path, a.update],
                   check=True)
