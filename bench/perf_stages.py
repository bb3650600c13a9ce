#!/usr/bin/python3
"""bench/perf_stages.py PERF_DATA RUNS: where a `forestbatch predict` spends its CPU, by stage.

Record the runs first with a fixed sampling rate (cpu-clock works in VMs without counters), e.g.

  perf record -F 2000 -o perf.data -- bash -c 'for i in $(seq 40); do
      build/forestbatch predict -q -m MODEL -i INPUT.csv -o out.csv -j 1; done'
  bench/perf_stages.py perf.data 40

Each sample of a process named forestbatch is put in the first stage whose pattern its function
(or, for the loader and the kernel, its binary) matches; the table gives milliseconds of CPU a run
(the samples' cpu-clock periods, in ns, added up and divided by the runs) and the share of the
process's samples. With --script, DATA is instead a saved `perf script -F comm,period,ip,sym,dso`
text (tests/harness/perf_stages_test.py uses one). The stages are by function name, so
they are approximate where a stage inlines another's code. BENCHMARKS.md, session 16, used it.
"""
import argparse
import collections
import re
import subprocess

STAGES = [
    ("the kernel (tree walks, sums)", "sym", r"CompleteImpl|RunTiles|AddSingleFloat|PredictRaw|Compiled\w*Predict"),
    ("model load and compile", "sym",
     r"LazyDoc|LazyJson|Converter|ValidateTree|ShapeOf|Compile|ChooseLayout|NumbersSurely|NumbersValid|"
     r"ForestBuilder|BuildForest|simdjson|Pickle|Unpickl|Joblib"),
    ("CSV parse", "sym", r"CsvReader|ParseRows"),
    ("Parquet decode", "sym", r"Parquet|HybridCursor|Unpack|ZSTD|zstd"),
    ("Finalize and writing the output", "sym", r"Finalize|expf|ResultFormatter"),
    ("the dynamic loader", "dso", r"ld-linux"),
    ("zeroing fresh pages", "sym", r"clear_page|folio_zero"),
    ("the read's copy out of the page cache", "sym", r"_copy_to_iter|filemap_"),
    ("other kernel time (exec, mmap, faults, the hypervisor)", "dso", r"kernel"),
]
LINE = re.compile(r"\s*(\S+)\s+(\d+)\s+[0-9a-f]+\s+(.*)\s*\(([^()]*)\)\s*$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("runs", type=int)
    ap.add_argument("--comm", default="forestbatch", help="the process name to count (default forestbatch)")
    ap.add_argument("--script", action="store_true",
                    help="DATA is the text of `perf script -F comm,period,ip,sym,dso`, not a recording")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error(f"RUNS must be 1 or more, not {args.runs}")
    if args.script:
        try:
            with open(args.data, encoding="utf-8", errors="replace") as f:
                report(f.read(), args.runs, args.comm)
        except OSError as e:
            raise SystemExit(f"perf_stages.py: {e}")
        return
    try:
        done = subprocess.run(["perf", "script", "-i", args.data, "-F", "comm,period,ip,sym,dso"],
                              capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit("perf_stages.py: no perf program on PATH (Debian: linux-perf)")
    if done.returncode != 0:
        raise SystemExit(f"perf_stages.py: perf script could not read {args.data}: {done.stderr.strip()}")
    report(done.stdout, args.runs, args.comm)


def report(script, runs, comm):
    """Prints the table of stages for the lines of `perf script` in `script`."""
    counts, ns, total = collections.Counter(), collections.Counter(), 0
    for line in script.splitlines():
        m = LINE.match(line)
        if not m or m.group(1) != comm:
            continue
        period, sym, dso = int(m.group(2)), m.group(3), m.group(4)
        total += 1
        stage = "other user space"
        for name, field, pattern in STAGES:
            if re.search(pattern, sym if field == "sym" else dso):
                stage = name
                break
        counts[stage] += 1
        ns[stage] += period
    if total == 0:
        raise SystemExit(f"perf_stages.py: no samples of a process named {comm}")
    print("| stage | ms of CPU a run | share |\n|---|---|---|")
    for name, n in counts.most_common():
        print(f"| {name} | {ns[name] / 1e6 / runs:.1f} | {100 * n / total:.0f} % |")
    print(f"| all | {sum(ns.values()) / 1e6 / runs:.1f} | |")


if __name__ == "__main__":
    main()
