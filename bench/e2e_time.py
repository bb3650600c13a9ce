#!/usr/bin/env python3
"""bench/e2e_time.py FB MODEL LABEL TREES ROWS RUNS ENGINE=INPUT...

`forestbatch predict` end to end (model load, parse, predict, write) on each input, at 1 and 2
threads, RUNS times each; within a round the inputs take turns, so a change of load on a shared
machine touches them alike. Prints one results.tsv row per input and thread count (bench/report.py):
the best wall seconds, the median CPU time (user + system of the process, from its rusage, to the
microsecond) as ns per row-tree, and the largest peak RSS in MB. The output goes to out.csv beside
each input.
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    fb, model, label, trees, rows, runs = sys.argv[1:7]
    trees, rows, runs = int(trees), int(rows), int(runs)
    inputs = [a.split("=", 1) for a in sys.argv[7:]]
    for threads in (1, 2):
        got = {engine: [] for engine, _ in inputs}
        for _ in range(runs):
            for engine, path in inputs:
                out = os.path.join(os.path.dirname(path), "out.csv")
                if os.path.exists(out):
                    os.remove(out)
                t0 = time.monotonic()
                p = subprocess.Popen([fb, "predict", "--model", model, "--threads", str(threads), "--input", path,
                                      "--output", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                err = p.stderr.read()
                _, status, ru = os.wait4(p.pid, 0)
                wall = time.monotonic() - t0
                if status != 0:
                    sys.stderr.write(f"forestbatch predict failed on {path}: {err.decode(errors='replace')}\n")
                    sys.exit(1)
                got[engine].append((ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss / 1024))
        for engine, _ in inputs:
            cpu = statistics.median(c for c, _, _ in got[engine])
            wall = min(w for _, w, _ in got[engine])
            rss = max(m for _, _, m in got[engine])
            print(f"{engine}\t{label}\t{threads}\t{rows}\t{trees}\t{wall:.3f}\t-\t{cpu * 1e9 / (rows * trees):.3f}"
                  f"\t-\t-\t{rss:.0f}", flush=True)


if __name__ == "__main__":
    main()
