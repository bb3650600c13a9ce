#!/usr/bin/python3
"""make_models.py DIR: trains the deep-forest benchmark models with Debian's
scikit-learn (run with /usr/bin/python3) and writes, per model NAME:
  DIR/NAME.joblib     the fitted estimator (100 fully grown trees)
  DIR/NAME.f32        the rows to predict: float32, row-major, no header
  DIR/NAME.shape      "ROWS FEATURES"
Models: rf-binary and rf-multiclass (5 classes) RandomForestClassifier, and
rf-regressor RandomForestRegressor, all with scikit-learn's defaults (trees
grown until pure); gb-binary GradientBoostingClassifier (100 trees of depth 3)
and hgb-binary HistGradientBoostingClassifier (100 iterations of 31-leaf trees),
scikit-learn's defaults, on rf-binary's kind of data. Existing outputs are kept,
so only the first run trains.
Environment: BENCH_TRAIN_ROWS (default 100000), BENCH_PREDICT_ROWS (200000)."""
import os, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, joblib
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                              RandomForestClassifier, RandomForestRegressor)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
train = int(os.environ.get("BENCH_TRAIN_ROWS", "100000"))
rows = int(os.environ.get("BENCH_PREDICT_ROWS", "200000"))
threads = os.cpu_count()

def make(name, est, data):
    path = os.path.join(out, name)
    if os.path.exists(path + ".joblib") and os.path.exists(path + ".f32"):
        return
    X, y = data
    X = X.astype(np.float32)
    t = time.perf_counter()
    est.fit(X[:train], y[:train])
    if hasattr(est, "n_jobs"):
        est.n_jobs = None
    if hasattr(est, "_predictors"):  # HistGradientBoosting: one list of trees per iteration
        trees = [p for it in est._predictors for p in it]
        nodes, depth = sum(len(p.nodes) for p in trees), "-"
    else:
        trees = [e.tree_ for e in np.ravel(est.estimators_)]
        nodes, depth = sum(t.node_count for t in trees), max(t.max_depth for t in trees)
    print(f"{name}: trained on {train} rows in {time.perf_counter() - t:.0f} s, "
          f"{len(trees)} trees, {nodes} nodes, max depth {depth}", flush=True)
    Xp = np.ascontiguousarray(X[train:train + rows])
    Xp.tofile(path + ".f32")
    with open(path + ".shape", "w") as f:
        f.write(f"{Xp.shape[0]} {Xp.shape[1]}\n")
    joblib.dump(est, path + ".joblib")

n = train + rows
make("rf-binary", RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=1),
     make_classification(n_samples=n, n_features=20, n_informative=12, n_classes=2, flip_y=0.05,
                         random_state=1))
make("rf-multiclass", RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=2),
     make_classification(n_samples=n, n_features=20, n_informative=12, n_classes=5, flip_y=0.05,
                         random_state=2))
# Boosting with scikit-learn's defaults (GradientBoosting fits one tree at a time in one thread:
# it trains on a fifth of the rows).
make("hgb-binary", HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=4),
     make_classification(n_samples=n, n_features=20, n_informative=12, n_classes=2, flip_y=0.05,
                         random_state=4))
gb_train, train = train, train // 5
make("gb-binary", GradientBoostingClassifier(n_estimators=100, random_state=5),
     make_classification(n_samples=n, n_features=20, n_informative=12, n_classes=2, flip_y=0.05,
                         random_state=5))
train = gb_train
# Regression trees grow one leaf per distinct target: train on half as many rows.
train //= 2
make("rf-regressor", RandomForestRegressor(n_estimators=100, n_jobs=threads, random_state=3),
     make_regression(n_samples=train + rows, n_features=20, n_informative=12, noise=5.0, random_state=3))
