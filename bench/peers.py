#!/usr/bin/python3
"""peers.py --model M.joblib --x X [--label NAME] [--threads 1,2] [--engine sklearn|xgboost|seed]
   [--xgb-json J] [--rows N]: times forestbatch's peers on the same model and rows, in the
same format as fb_kernel_bench's lines (tab-separated):
  engine model threads rows trees seconds ns_per_row_tree_per_thread(wall) ns_per_row_tree(cpu)
  - rows_per_s peak_rss_mb
  sklearn  predict_proba (regressors: predict) with n_jobs=THREADS
  xgboost  XGBoost's C++ predictor, inplace_predict(predict_type="margin") with nthread=THREADS,
           on the same trees converted exactly by sk2xgb.py (cached in --xgb-json); its output
           is checked against scikit-learn's
  seed     the seed's predict.py logic on a CSV (pandas read with its header quirk, joblib
           load, predict, DataFrame.to_csv), one process: end-to-end seconds for the file
X: a header-less CSV, or raw float32 rows (.f32) with X's stem + ".shape" = "ROWS FEATURES".
Needs Debian's python3-sklearn, python3-pandas, python3-xgboost: run with /usr/bin/python3."""
import argparse, os, resource, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, joblib

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--x", required=True)
ap.add_argument("--label", default=None)
ap.add_argument("--threads", default="1,2")
ap.add_argument("--engine", default="sklearn")
ap.add_argument("--xgb-json", default=None)
ap.add_argument("--rows", type=int, default=0)
ap.add_argument("--min-time", type=float, default=1.0)
a = ap.parse_args()
label = a.label or os.path.basename(a.model)
here = os.path.dirname(os.path.abspath(__file__))

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

def load_x(path):
    if path.endswith(".f32"):
        rows, feats = map(int, open(path[:-4] + ".shape").read().split())
        return np.fromfile(path, dtype=np.float32).reshape(rows, feats)
    import pandas as pd
    return pd.read_csv(path, header=None).values.astype(np.float32)

def timed(fn, min_time):
    best = best_cpu = 1e30; total = 0.0; reps = 0
    while reps < 1 or total < min_time:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        s = time.perf_counter() - t
        best = min(best, s); best_cpu = min(best_cpu, time.process_time() - c); total += s; reps += 1
    return best, best_cpu, out

def line(engine, threads, rows, trees, s, cpu):
    rt = rows * trees
    print(f"{engine}\t{label}\t{threads}\t{rows}\t{trees}\t{s:.4f}\t{s * 1e9 * threads / rt:.3f}\t"
          f"{cpu * 1e9 / rt:.3f}\t-\t{rows / s:.0f}\t{rss_mb():.0f}", flush=True)

# An XGBoost model file is timed as it is; a scikit-learn model is converted.
xgb_native = a.model.endswith((".json", ".ubj"))
if not xgb_native:
    m = joblib.load(a.model)
    rf = getattr(m, "best_estimator_", m)
    if hasattr(rf, "_predictors"):  # HistGradientBoosting: a list of trees per iteration
        trees = sum(len(it) for it in rf._predictors)
    else:  # forests: a list of trees; GradientBoosting: an array, iterations x classes
        trees = np.size(rf.estimators_)
    classifier = hasattr(rf, "classes_")
elif a.engine != "xgboost":
    sys.exit("an XGBoost model can only be timed with --engine xgboost")

if a.engine == "seed":
    # The seed's predict.py, run as the seed ran it (whole file, one process).
    import pandas as pd
    from pandas import DataFrame
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.perf_counter(), time.process_time()
        x_test = pd.read_csv(a.x)
        loaded = joblib.load(a.model)
        preds = DataFrame(loaded.predict(x_test))
        preds.to_csv(os.path.join(tmp, "out.csv"))
        s, cpu = time.perf_counter() - t, time.process_time() - c
    line("seed-predict.py", 1, len(x_test) + 1, trees, s, cpu)
    sys.exit(0)

X = load_x(a.x)
if a.rows:
    X = X[:a.rows]
rows = X.shape[0]
if a.engine == "sklearn":
    # Forests parallelise with n_jobs (joblib), HistGradientBoosting with OpenMP (threadpoolctl
    # limits it); GradientBoosting predicts in one thread whatever is asked.
    from threadpoolctl import threadpool_limits
    fn = rf.predict_proba if classifier else rf.predict
    for th in map(int, a.threads.split(",")):
        if hasattr(rf, "n_jobs"):
            rf.n_jobs = th
        with threadpool_limits(limits=th):
            s, cpu, _ = timed(lambda: fn(X), a.min_time)
        line("sklearn", th, rows, trees, s, cpu)
elif a.engine == "xgboost":
    import xgboost as xgb
    if xgb_native:
        b = xgb.Booster(); b.load_model(a.model)
        trees = len(b.get_dump())
    else:
        j = a.xgb_json or os.path.join(tempfile.mkdtemp(), "m.json")
        if not os.path.exists(j):
            subprocess.run(["/usr/bin/python3", os.path.join(here, "sk2xgb.py"), a.model, j], check=True)
        b = xgb.Booster(); b.load_model(j)
        check = min(rows, 2000)
        want = rf.predict_proba(X[:check]) if classifier else rf.predict(X[:check])
        if classifier and want.shape[1] == 2:
            want = want[:, 1]
        got = b.inplace_predict(X[:check], predict_type="margin")
        # XGBoost keeps leaves and sums in float32: a relative tolerance for large regression targets.
        err = np.abs(np.asarray(got).reshape(want.shape) - want) / np.maximum(1.0, np.abs(want))
        assert err.max() < 1e-4, f"converted model disagrees (relative error {err.max():.2g})"
    for th in map(int, a.threads.split(",")):
        b.set_param({"nthread": th})
        s, cpu, _ = timed(lambda: b.inplace_predict(X, predict_type="margin"), a.min_time)
        line("xgboost", th, rows, trees, s, cpu)
else:
    sys.exit("unknown engine " + a.engine)
