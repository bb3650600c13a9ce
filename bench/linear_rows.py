#!/usr/bin/python3
"""bench/linear_rows.py BUILD_DIR [--update BENCHMARKS.md]: the cost of one `forestbatch predict` by
input size (issue 17: rows/s of one file from 10 k to 100 M rows within 10 % of the best, peak RSS
flat). Run by `make bench` (bench/run.sh; BENCH_LINEAR=0 skips it); runs alone as well.

fb_gen_rows (bench/gen_rows.cc) streams N seed-like rows, never stored (100 M rows are 12 GB),
into `forestbatch predict --input -` with the seed model (examples/seed/model.joblib), 2 threads,
the predictions to /dev/null (written in place: docs/predict.md). Measured for predict alone: wall
seconds (from start to exit), CPU seconds (user + system, wait4) and peak RSS; the generator runs
beside it on the same cores. A 1-row run measures the fixed cost (process start, model load). Each
size runs BENCH_LINEAR_REPS times (default 5; 3 from 10 M rows, 2 from 100 M), interleaved: every
size once, then every size again. Sizes: BENCH_LINEAR_ROWS (default
"1 10000 100000 1000000 10000000 100000000").

Writes BUILD_DIR/bench-data/linear.tsv (linear, rows, wall s, user s, system s, peak RSS KiB); with
--update, `bench/report.py --linear` writes its table into BENCHMARKS.md.
"""
import argparse, os, subprocess, sys, time

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

def run(n):
    g = subprocess.Popen([gen, str(n), template], stdout=subprocess.PIPE)
    t0 = time.perf_counter()
    p = subprocess.Popen([fb, "predict", "-q", "--model", model, "--input", "-", "--output", "/dev/null",
                          "--threads", "2", "--header", "no"], stdin=g.stdout)
    g.stdout.close()  # predict holds the pipe's read end
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if g.wait() != 0 or p.returncode != 0:
        sys.exit(f"linear_rows: {n} rows: fb_gen_rows exit {g.returncode}, predict exit {p.returncode}")
    return wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss

with open(out_path, "w") as out:
    for r in range(max(reps(n) for n in sizes)):
        for n in sizes:
            if r >= reps(n): continue
            wall, user, sys_s, rss = run(n)
            line = f"linear\t{n}\t{wall:.4f}\t{user:.4f}\t{sys_s:.4f}\t{rss}"
            print(line, flush=True)
            out.write(line + "\n")
if a.update:
    subprocess.run([sys.executable, os.path.join(root, "bench", "report.py"), "--linear", out_path, a.update],
                   check=True)
