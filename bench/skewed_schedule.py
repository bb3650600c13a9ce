#!/usr/bin/env python3
"""Skewed-workload benchmark of `forestbatch run`'s schedules (issue 16).

bench/skewed_schedule.py FORESTBATCH [--tasks 4] [--files 40] [--reps 2] [--update BENCHMARKS.md]

The workload is built to hurt the static plan twice over:
  - sorted inputs whose first static slice (files 0 .. files/tasks - 1) holds
    the large files (LARGE lines each; the rest SMALL lines);
  - task 0 slowed: its worker and the program it runs are stopped with
    SIGSTOP for STOP seconds out of every PERIOD (a noisy neighbour, a
    throttled or paused VM), for as long as the job runs.
Per-file work is a tiny C program compiled here (WORK_C, run with --exec):
it copies the input and sleeps DELAY per 40 lines in 20 ms steps, so a file's
time is proportional to its size, costs almost no CPU (the machine is shared:
the figures must not depend on other users' load), and a stopped task makes
no progress (the steps only count while it runs).

Makespan (the job's wall seconds, `run --json`) of: static (`--shard-by
count`), `--shard-by bytes`, `--schedule dynamic`, against the ideal: the
total work (the same files done by one unslowed worker, measured) / tasks;
and the ideal with task 0's lost capacity (total / (tasks - STOP/PERIOD)).
Prints a Markdown table; with --update, replaces the section between the
markers in BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char** argv) {
  if (argc != 4) return 2;
  FILE* in = fopen(argv[1], "rb");
  FILE* out = fopen(argv[2], "wb");
  if (!in || !out) return 1;
  long lines = 0;
  int c;
  while ((c = fgetc(in)) != EOF) {
    if (c == '\n') ++lines;
    fputc(c, out);
  }
  if (fclose(out) != 0) return 1;
  long steps = (long)(lines / 40.0 * atof(argv[3]) / 0.02 + 0.5);
  struct timespec t = {0, 20000000};
  for (long i = 0; i < steps; ++i) nanosleep(&t, NULL);
  return 0;
}
"""
BEGIN, END = "<!-- bench/skewed_schedule.py: begin -->", "<!-- bench/skewed_schedule.py: end -->"


def make_inputs(folder, files, tasks, large, small):
    per_task = -(-files // tasks)
    for i in range(files):
        lines = large if i < per_task else small
        with open(os.path.join(folder, f"f{i:03d}.csv"), "w") as f:
            f.write("".join(f"{i},{k},{'x' * 20}\n" for k in range(lines)))


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


class Slowdown(threading.Thread):
    """Stops task 0 (worker and its children) STOP s out of every PERIOD s."""

    def __init__(self, supervisor, stop_s, period_s):
        super().__init__(daemon=True)
        self.supervisor, self.stop_s, self.period_s = supervisor, stop_s, period_s
        self.done = threading.Event()
        self.stopped_s = 0.0

    def task0(self):
        for c in children(self.supervisor.pid):
            args = cmdline(c)
            if b"--index" in args and args[args.index(b"--index") + 1] == b"0":
                return c
        return None

    def signal_all(self, pid, sig):
        for p in descendants(pid):
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass

    def run(self):
        while not self.done.is_set():
            t = self.task0()
            if t is None:
                time.sleep(0.01)
                continue
            if self.done.wait(self.period_s - self.stop_s):
                break
            self.signal_all(t, signal.SIGSTOP)
            t0 = time.monotonic()
            self.done.wait(self.stop_s)
            self.signal_all(t, signal.SIGCONT)
            self.stopped_s += time.monotonic() - t0


def run_job(fb, work, name, extra, tasks, delay, slow, helper):
    out = os.path.join(work, "out-" + name)
    state = os.path.join(work, "state-" + name)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    cmd = [fb, "run", "-i", os.path.join(work, "in"), "-o", out, "--state", state, "--workers", str(tasks),
           "--progress", "none", "--json", "--exec", f"{helper} {{input}} {{output}} {delay}"]
    p = subprocess.Popen(cmd + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slower = None
    if slow:
        slower = Slowdown(p, *slow)
        slower.start()
    stdout, stderr = p.communicate(timeout=900)
    if slower:
        slower.done.set()
        slower.join()
    if p.returncode != 0:
        sys.exit(f"{name}: run failed ({p.returncode}): {stderr}")
    st = json.loads(stdout)
    if st["files"]["done"] != len(os.listdir(os.path.join(work, "in"))):
        sys.exit(f"{name}: {st['files']}")
    return st["seconds"], [t["files_done"] for t in st["tasks"]]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("forestbatch")
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--large", type=int, default=2000, help="lines of a large file")
    ap.add_argument("--small", type=int, default=400, help="lines of a small file")
    ap.add_argument("--delay", type=float, default=0.02, help="seconds per 40 lines")
    ap.add_argument("--stop", type=float, default=0.3, help="seconds task 0 is stopped per period")
    ap.add_argument("--period", type=float, default=1.2)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--update", help="BENCHMARKS.md to update")
    a = ap.parse_args()
    fb = os.path.abspath(a.forestbatch)
    work = tempfile.mkdtemp(prefix="fb_skew_")
    try:
        os.makedirs(os.path.join(work, "in"))
        make_inputs(os.path.join(work, "in"), a.files, a.tasks, a.large, a.small)
        helper = os.path.join(work, "work")
        with open(helper + ".c", "w") as f:
            f.write(WORK_C)
        subprocess.run(["cc", "-O2", "-o", helper, helper + ".c"], check=True)
        slow = (a.stop, a.period)
        rows = {"static (--shard-by count)": [], "--shard-by bytes": [], "dynamic": []}
        shares = {}
        serial = []
        for rep in range(a.reps):
            serial.append(run_job(fb, work, "serial", [], 1, a.delay, None, helper)[0])
            for name, extra in (("static (--shard-by count)", []), ("--shard-by bytes", ["--shard-by", "bytes"]),
                                ("dynamic", ["--schedule", "dynamic"])):
                secs, per_task = run_job(fb, work, name.split()[0].strip("-"), extra, a.tasks, a.delay, slow, helper)
                rows[name].append(secs)
                shares[name] = per_task
                print(f"rep {rep + 1}: {name}: {secs:.2f} s, files per task {per_task}", flush=True)
        total = statistics.median(serial)
        ideal = total / a.tasks
        ideal_slow = total / (a.tasks - a.stop / a.period)
        load = os.getloadavg()
        lines = [
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on **{cpu_name()}** "
            f"({os.cpu_count()} vCPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}: a shared machine; "
            "the per-file work sleeps in 20 ms steps, so the figures depend little on CPU contention).",
            "",
            f"{a.files} files, {a.tasks} tasks; the first static slice ({-(-a.files // a.tasks)} files) holds the "
            f"large files ({a.large} lines, {a.large / 40 * a.delay:.2f} s of work each; the others {a.small} lines, "
            f"{a.small / 40 * a.delay:.2f} s); task 0 stopped {a.stop} s of every {a.period} s (SIGSTOP bursts). "
            f"Total work, measured with one unslowed worker: {total:.2f} s (median of {a.reps}). Makespan: the "
            f"median of {a.reps} runs of `forestbatch run --workers {a.tasks} --exec ...`.",
            "",
            "| schedule | makespan s | vs ideal (total / tasks) | vs ideal with task 0's lost capacity | files per task (last run) |",
            "|---|---|---|---|---|",
        ]
        for name, secs in rows.items():
            m = statistics.median(secs)
            lines.append(f"| {name} | {m:.2f} | {m / ideal * 100 - 100:+.0f} % | {m / ideal_slow * 100 - 100:+.0f} % | "
                         f"{', '.join(map(str, shares[name]))} |")
        lines.append(f"| ideal: total / tasks | {ideal:.2f} | 0 % | | |")
        lines.append(f"| ideal with task 0 stopped {a.stop / a.period:.0%} of the time | {ideal_slow:.2f} | "
                     f"{ideal_slow / ideal * 100 - 100:+.0f} % | 0 % | |")
        lines.append("")
        lines.append("Reproduce: `bench/skewed_schedule.py build/forestbatch` (also run by `make bench`).")
        table = "\n".join(lines)
        print(table)
        if a.update:
            text = open(a.update).read()
            block = f"{BEGIN}\n{table}\n{END}"
            if BEGIN in text:
                text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
            else:
                text += "\n## Skewed workload: static vs --shard-by bytes vs dynamic scheduling\n\n" + block + "\n"
            open(a.update, "w").write(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
