#!/usr/bin/python3
"""report.py RESULTS.tsv BENCHMARKS.md [SEED_JOB.txt]: prints the benchmark table of bench/run.sh
and writes it, with the CPU model, the load, the command and the seed job's table
(bench/run_seed_job.sh's output), to BENCHMARKS.md, between the markers below; the rest of
BENCHMARKS.md (sections kept by hand) stays as it is.
report.py --linear LINEAR.tsv BENCHMARKS.md: the table of bench/linear_rows.py instead, between
its own markers."""
import datetime, os, platform, statistics, subprocess, sys


def linear_section(tsv, md):
    """report.py --linear LINEAR.tsv BENCHMARKS.md: the table of bench/linear_rows.py (cost of one
    `forestbatch predict` by input size), between its own markers in BENCHMARKS.md."""
    runs, file_runs = {}, {}
    for l in open(tsv):
        p = l.rstrip("\n").split("\t")
        if len(p) >= 6 and p[0] == "linear":
            runs.setdefault(int(p[1]), []).append((float(p[2]), float(p[3]) + float(p[4]), int(p[5])))
        if len(p) >= 7 and p[0] == "runfiles":
            file_runs.setdefault((int(p[1]), int(p[6])), []).append((float(p[2]), float(p[3]) + float(p[4])))
    med = statistics.median
    fixed = runs.pop(1, None)
    fixed_wall = min(w for w, _, _ in fixed) if fixed else 0.0
    fixed_cpu = med([c for _, c, _ in fixed]) if fixed else 0.0
    stats = {}
    for n, rs in sorted(runs.items()):
        wall, cpu = min(w for w, _, _ in rs), med([c for _, c, _ in rs])
        net_wall = wall - fixed_wall
        stats[n] = dict(runs=len(rs), wall=wall, cpu=cpu, rate=n / wall,
                        net=(n / net_wall if net_wall > 0 else float("nan")),
                        cpu_ns=cpu / n * 1e9, net_cpu_ns=(cpu - fixed_cpu) / n * 1e9,
                        rss=max(r for _, _, r in rs) / 1024)
    if not stats:
        sys.exit(f"report.py --linear: no runs in {tsv}")
    best = max(v["rate"] for v in stats.values())
    best_net = max(v["net"] for v in stats.values() if v["net"] == v["net"])
    best_cpu = min(v["cpu_ns"] for v in stats.values())
    lines = ["| rows | runs | wall s (best) | rows/s | % of best | CPU s (median) | CPU ns/row | % of best CPU "
             "| rows/s net of the fixed cost | % of best | CPU ns/row net | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, v in stats.items():
        lines.append(f"| {n:,} | {v['runs']} | {v['wall']:.3f} | {v['rate']:,.0f} | {v['rate'] / best * 100:.0f} % | "
                     f"{v['cpu']:.3f} | {v['cpu_ns']:.0f} | {best_cpu / v['cpu_ns'] * 100:.0f} % | {v['net']:,.0f} | "
                     f"{v['net'] / best_net * 100:.0f} % | {v['net_cpu_ns']:.0f} | {v['rss']:.1f} |")
    within = [n for n, v in stats.items() if v["rate"] >= 0.9 * best]
    within_net = [n for n, v in stats.items() if v["net"] >= 0.9 * best_net]
    rss = [v["rss"] for v in stats.values()]
    cpu = "unknown CPU"
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip(); break
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    fixed_text = (f"The fixed cost (a 1-row run: process start and loading the seed model; one chunk, so no worker threads) was "
                  f"{fixed_wall * 1000:.0f} ms wall (best of {len(fixed)}) and {fixed_cpu * 1000:.0f} ms of CPU "
                  f"(median); the \"net\" columns take it away." if fixed else "No 1-row run: nothing is taken away.")
    files_text = ""
    if len(file_runs) == 2:
        (k1, rows_1), (kn, rows_n) = sorted(file_runs)
        if k1 == 1 and kn > 1 and rows_1 == rows_n:
            r1, rn = file_runs[(k1, rows_1)], file_runs[(kn, rows_n)]
            per_cpu = (med([c for _, c in rn]) - med([c for _, c in r1])) / (kn - 1)
            per_wall = (min(w for w, _ in rn) - min(w for w, _ in r1)) / (kn - 1)
            alone = stats.get(rows_1)
            alone_text = (f"; as its own `predict` process (the {rows_1:,}-row line above) it costs "
                          f"{alone['cpu'] * 1000:.1f} ms of CPU ({alone['cpu_ns']:.0f} ns a row)" if alone else "")
            files_text = f"""

**{rows_1:,}-row files inside one long-lived `run`** (`run --workers 1 --threads 2` over 1 and over {kn}
generated files, {len(rn)} runs each, interleaved; BENCH_LINEAR_FILES sets the count): one more file
costs {per_cpu * 1000:.1f} ms of CPU, {per_cpu / rows_1 * 1e9:.0f} ns a row ({best_cpu / (per_cpu / rows_1 * 1e9) * 100:.0f} % of the best CPU
ns/row above), and {per_wall * 1000:.1f} ms of wall time (best runs){alone_text}. Which definition gives
which figure: the table's rows/s and CPU ns/row include one whole process per file (start, loading
the model, starting threads, first touching buffers); the `run` figure is what a file of that size
costs a worker that is already running, including what `run` always does per file (its output
written, fsynced and renamed into place, a manifest with the output's SHA-256, the job records)."""
    block = f"""<!-- bench/report.py linear: begin -->
Run {now} on **{cpu}** ({os.cpu_count()} cores; load average at the end {load}), by
`bench/linear_rows.py BUILD --update BENCHMARKS.md` (also run by `make bench`; BENCH_LINEAR=0 skips
it): `fb_gen_rows N | forestbatch predict --model examples/seed/model.joblib --input - --output
/dev/null --threads 2`, N seed-like rows (59 features, about 120 bytes a row) generated and streamed,
never stored. Wall time and rows/s: the best run of each size; CPU time (user + system of predict
alone): the median; peak RSS: predict's own (bench/rusage.cc), the largest of its runs. The generator shares the 2 cores, so wall-clock rows/s are lower than predict
alone would reach. {fixed_text}

{chr(10).join(lines)}

Rows/s within 10 % of the best: {", ".join(f"{n:,}" for n in within) or "none"} rows
({"every size" if len(within) == len(stats) else "not every size"}); net of the fixed cost:
{", ".join(f"{n:,}" for n in within_net) or "none"}. Peak RSS from {min(rss):.1f} to {max(rss):.1f} MiB.{files_text}
<!-- bench/report.py linear: end -->"""
    begin, end = "<!-- bench/report.py linear: begin -->", "<!-- bench/report.py linear: end -->"
    doc = open(md).read()
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        main_end = "<!-- bench/report.py: end -->"
        at = doc.index(main_end) + len(main_end) if main_end in doc else len(doc)
        doc = (doc[:at] + "\n\n## Cost by input size: one file from 10 k to 100 M rows (issue 17)\n\n" + block +
               doc[at:])
    open(md, "w").write(doc)
    print(block)


if len(sys.argv) == 4 and sys.argv[1] == "--linear":
    linear_section(sys.argv[2], sys.argv[3])
    sys.exit(0)
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
# Model loads (fb_kernel_bench --load): their own table.
loads = [r for r in rows if r[0] == "forestbatch-load"]
rows = [r for r in rows if r[0] != "forestbatch-load"]
cpu = "unknown CPU"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip(); break
flags = open("/proc/cpuinfo").read()
simd = "AVX-512" if " avx512f" in flags else ("AVX2" if " avx2" in flags else "no AVX2")
load = open("/proc/loadavg").read().split()[:3]

def f(x, d=2):
    try: return f"{float(x):.{d}f}"
    except ValueError: return x

# Speed-up of forestbatch's best target over each peer, per model, at equal threads (CPU ns).
best, peer = {}, {"xgboost": {}, "sklearn": {}}
for r in rows:
    eng, model, th = r[0], r[1], r[2]
    if r[7] == "-": continue
    if eng.startswith("forestbatch-compiled"):
        best[(model, th)] = min(best.get((model, th), 1e30), float(r[7]))
    elif eng in peer:
        peer[eng][(model, th)] = float(r[7])

head = ("| model | engine | threads | rows | trees | seconds | ns/row-tree/thread (wall) | "
        "ns/row-tree (CPU) | ns/row-tree (fastest call) | rows/s | peak RSS MB |")
lines = [head, "|" + "---|" * 11]
for r in rows:
    lines.append("| " + " | ".join([r[1], r[0], r[2], r[3], r[4], f(r[5], 3), f(r[6]), f(r[7]), f(r[8]),
                                     r[9], r[10]]) + " |")
speed = ["| model | threads | forestbatch CPU ns | XGBoost CPU ns | speed-up | scikit-learn CPU ns | speed-up |",
         "|---|---|---|---|---|---|---|"]
for k in sorted(best):
    cells = []
    for eng in ("xgboost", "sklearn"):
        v = peer[eng].get(k)
        cells += [f"{v:.2f}", f"{v / best[k]:.1f}x"] if v else ["-", "-"]
    if any(c != "-" for c in cells):
        speed.append(f"| {k[0]} | {k[1]} | {best[k]:.2f} | " + " | ".join(cells) + " |")
# The whole `forestbatch predict` (parse, predict, write; process start and model load included)
# against the kernel alone, CPU ns per row-tree at the same threads (issue 17: 1.3x or less).
ratio = ["| model | threads | kernel CPU ns | whole predict CPU ns | whole / kernel |", "|---|---|---|---|---|"]
for r in rows:
    if r[0] == "forestbatch-predict-e2e" and not r[1].startswith("lgbm-") and (r[1], r[2]) in best:
        k = best[(r[1], r[2])]
        ratio.append(f"| {r[1]} | {r[2]} | {k:.2f} | {float(r[7]):.2f} | {float(r[7]) / k:.2f}x |")
# LightGBM (bench/lgbm_bench.sh): CLI against CLI, CPU seconds and CPU ns per row and extra tree.
lg = {}
for r in rows:
    if r[1].startswith("lgbm-") and r[0] in ("forestbatch-predict-e2e", "lightgbm-cli-e2e",
                                             "forestbatch-predict-per-tree", "lightgbm-cli-per-tree"):
        lg.setdefault(r[1], {})[r[0]] = (float(r[5]), float(r[7]))
lgbm = ["| model | forestbatch predict CPU s | LightGBM predict CPU s | speed-up | forestbatch ns/row-tree "
        "(500 - 1 rounds) | LightGBM ns/row-tree | speed-up | forestbatch kernel ns/row-tree |",
        "|---|---|---|---|---|---|---|---|"]
for m, v in sorted(lg.items()):
    if len(v) < 4: continue
    fe, le = v["forestbatch-predict-e2e"][0], v["lightgbm-cli-e2e"][0]
    ft, lt = v["forestbatch-predict-per-tree"][1], v["lightgbm-cli-per-tree"][1]
    k = best.get((m, "1"))
    lgbm.append(f"| {m} | {fe:.2f} | {le:.2f} | {le / fe:.1f}x | {ft:.2f} | {lt:.2f} | "
                f"{(lt / ft if ft > 0 else float('nan')):.1f}x | {k:.2f} |" if k else
                f"| {m} | {fe:.2f} | {le:.2f} | {le / fe:.1f}x | {ft:.2f} | {lt:.2f} | - | - |")
loading = ["| model file | MB | trees | seconds (wall) | CPU seconds | MB/s (wall) | MB/s (CPU) | peak RSS MB "
           "| load + compile, seconds (wall) | load + compile, CPU seconds |",
        "|---|---|---|---|---|---|---|---|---|---|"]
for r in loads:
    mb, sec, c = float(r[3]) / 1e6, float(r[5]), float(r[7])
    ready = f"{float(r[11]):.4f} | {float(r[12]):.4f}" if len(r) > 12 else "- | -"
    loading.append(f"| {r[1]} | {mb:.1f} | {r[4]} | {sec:.4f} | {c:.4f} | {mb / sec:.0f} | "
                f"{(mb / c if c > 0 else float('inf')):.0f} | {r[10]} | {ready} |")
seed_job = ""
if len(sys.argv) > 3 and os.path.exists(sys.argv[3]):
    # Its table and summary lines (not its progress lines), a blank line around the table, paths
    # relative to the repository.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    out, prev = [], None
    for l in open(sys.argv[3]).read().strip().splitlines():
        if l.startswith("progress:"): continue
        table = l.startswith("|")
        if prev is not None and table != prev: out.append("")
        out.append(l.replace(root, "") if table else l.replace(root, "") + "  ")
        prev = table
    seed_job = "\n".join(out)

table = "\n".join(lines)
# Parquet next to CSV: the seed file end to end, the same binary, runs taking turns (bench/e2e_time.py).
e2e = {(r[0], r[1], r[2]): r for r in rows if r[0] in ("forestbatch-predict-e2e", "forestbatch-predict-e2e-parquet")}
pq_cells = []
for (eng, model, th), r in sorted(e2e.items()):
    c = e2e.get(("forestbatch-predict-e2e", model, th))
    if eng != "forestbatch-predict-e2e-parquet" or c is None: continue
    ms = lambda x: float(x[7]) * float(x[3]) * float(x[4]) / 1e6
    pq_cells.append(f"{th} thread{'s' if th != '1' else ''}: CSV {ms(c):.1f} ms, Parquet {ms(r):.1f} ms "
                    f"(Parquet / CSV {ms(r) / ms(c):.3f}; peak RSS {c[10]} and {r[10]} MB)")
parquet_vs_csv = ("Parquet next to CSV (issue 14: Parquet input not slower than CSV), the seed file end to end, "
                  "CPU time (median): " + "; ".join(pq_cells) + "." if pq_cells else
                  "Parquet next to CSV: not run (no Parquet seed file: DuckDB from npm was not available).")
print(table); print(); print("\n".join(speed))
if len(lgbm) > 2: print(); print("\n".join(lgbm))
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
begin, end = "<!-- bench/report.py: begin -->", "<!-- bench/report.py: end -->"
block = f"""{begin}
Latest `make bench` (bench/run.sh), {now}, on **{cpu}** ({os.cpu_count()} cores, {simd};
load average at the end {' '.join(load)}: the machine may be shared, so CPU-time figures are the
steadier ones). Reproduce with `make bench` (or `bench/run.sh build` after a Release build with
benchmarks); force a kernel target with `FORESTBATCH_SIMD=scalar|avx2|avx512`.

Columns: wall seconds of the best run; ns per row-tree per thread from wall time
(seconds x threads / (rows x trees)); the same from the process's CPU time (all threads); the
fastest single 4096-row `PredictRaw` call (forestbatch only); rows per second; peak RSS of the
process (`forestbatch predict`: from its rusage, bench/e2e_time.py). forestbatch lines are the kernel
(`fb_kernel_bench`, sums checked bit-identical to the reference predictor first), except
`forestbatch-predict-e2e` (parse, predict, write one file, model load included; its CPU column is
the whole process's user + system time per row-tree, the median of BENCH_E2E_RUNS runs (default 9),
its seconds the best run's wall time; to set against the kernel's: on `xgb-seed` and
`rf-binary` the issue's goal is 1.3x) and
`forestbatch-predict-e2e-parquet` (the same rows as a zstd Parquet file written by DuckDB, its runs
taking turns with the CSV file's; the two compared below the table). XGBoost runs
its C++ predictor (`inplace_predict`) on the same trees converted exactly by bench/sk2xgb.py
(multiclass: one XGBoost tree per class per forest tree, as XGBoost 1.7 has no vector leaves);
peers predict the first BENCH_PEER_ROWS rows of the deep-forest and XGBoost inputs. Models:
`seed` is examples/seed/model.joblib (200 trees, depth 5, 59 features) on the 319,207-row seed
file; `rf-*` are 100 fully grown trees from bench/make_models.py (scikit-learn defaults);
`gb-binary` a GradientBoostingClassifier (100 trees of depth 3) and `hgb-binary` a
HistGradientBoostingClassifier (100 iterations of 31-leaf trees; its float64 comparisons through the
input map, applied when the rows are read, as the readers do, outside the timing), scikit-learn's
defaults, against scikit-learn's own `predict_proba` (HistGradientBoosting's OpenMP threads limited
with threadpoolctl; GradientBoosting predicts in one thread);
`xgb-seed` is an XGBoost model of 500 depth-6 rounds on the seed's features and `xgb-cont` the
same on 20 continuous features (bench/make_xgb_model.py), timed by XGBoost on its own model file.

{table}

{parquet_vs_csv}

Speed-up of forestbatch (best SIMD target) over the peers, CPU time per row-tree, same threads:

{chr(10).join(speed)}

The whole `forestbatch predict` against the kernel alone, CPU time per row-tree at the same
threads (`forestbatch-predict-e2e` rows: process start, model load, compile, parse, predict and
write; the issue's goal is 1.3x or less; `rf-binary`'s rows are its .f32 rows written as CSV):

{chr(10).join(ratio) if len(ratio) > 2 else "(not run)"}

LightGBM (bench/lgbm_bench.sh; 500 rounds of 31-leaf binary trees trained by LightGBM's CLI on the
seed's features, `lgbm-seed`, and on 20 continuous features, `lgbm-cont`): `forestbatch predict` and
LightGBM's `task=predict`, one thread each, on the same CSV (parse, predict, write every value), CPU
time; then the same with one round instead of 500, and the difference per row and extra tree: the
prediction alone, without the two programs' different parsers and writers. That per-tree column is
the fair comparison; the kernel column is forestbatch's kernel on rows already in memory (LightGBM's
C API, its counterpart, was not built).

{chr(10).join(lgbm) if len(lgbm) > 2 else "(not run: no LightGBM CLI; set LIGHTGBM=/path/to/lightgbm)"}

Model load (`fb_kernel_bench --load`: `LoadModelFile` alone, importer, validation and the
`Forest` built, one load per fresh process as `forestbatch predict` does it, the file from the page
cache; the best of 5 processes): the seed's joblib, the deep forests' joblib files and the same
forests converted to `.fbm` (`forestbatch model convert`; a `.fbm` that stores its compiled layout
loads as `predict` loads it, its trees' nodes left undecoded: docs/formats/fbm.md, "Trees on
demand"), and the XGBoost model xgb-seed as JSON, as UBJSON and pickled as an `XGBClassifier`
(XGBoost's own conversions). CPU seconds are the process's user + system time of the load. "Load + compile" adds
`MakeModelPredictor` (what `predict` does before its first row: the compiled layout built, or for a
`.fbm` that stores it, read and checked).

{chr(10).join(loading) if len(loading) > 2 else "(not run)"}

The seed's array job (bench/run_seed_job.sh: 100 copies of the seed file, `forestbatch run
--workers 2`, and the seed's entrypoint with `predict.py` on a few of the files, in the same run):

{seed_job or "(not run)"}
{end}"""
old = open(sys.argv[2]).read() if os.path.exists(sys.argv[2]) else "# Benchmarks\n"
if begin in old and end in old:
    doc = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
else:
    body = old.split("\n", 1)[1] if old.startswith("# ") else old
    doc = "# Benchmarks\n\n" + block + "\n\n" + body.lstrip("\n")
open(sys.argv[2], "w").write(doc)
print(f"\nwrote {sys.argv[2]}")
