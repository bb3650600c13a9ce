#!/usr/bin/python3
"""Compares `forestbatch train` with scikit-learn's RandomForest/ExtraTrees on the
same train/test split and hyperparameters: held-out ROC AUC (classification) or
RMSE (regression), fit time and peak memory. Run by bench/train_bench.sh.

Usage: train_compare.py FORESTBATCH WORKDIR THREADS [--large] [--only NAME] [--trees N] [--sk-trees M]
--sk-trees M fits scikit-learn with M trees instead of N (a shorter run); its fit time is then
reported for M trees and the speed-up is per tree (fit time is linear in the tree count).
Needs Debian's python3-sklearn (/usr/bin/python3). Data sets: scikit-learn's
bundled breast_cancer, wine, digits, diabetes (california housing needs a
download, so it is not used) and synthetic make_classification /
make_regression sets.
"""
import json, os, re, subprocess, sys, time, resource
import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier
from sklearn.metrics import roc_auc_score, mean_squared_error
from sklearn.model_selection import train_test_split

fb, work, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
large = "--large" in sys.argv
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
# --trees N: override the 100 trees (fit time is linear in trees; for a quick large run)
n_trees = int(sys.argv[sys.argv.index("--trees") + 1]) if "--trees" in sys.argv else 100
sk_trees = int(sys.argv[sys.argv.index("--sk-trees") + 1]) if "--sk-trees" in sys.argv else n_trees
os.makedirs(work, exist_ok=True)


def bundled(loader):
    b = loader(as_frame=True)
    return b.frame.rename(columns={"target": "target"})


def synthetic_cls(n, p, seed):
    X, y = datasets.make_classification(n_samples=n, n_features=p, n_informative=p // 2, n_redundant=p // 5,
                                        flip_y=0.05, class_sep=0.8, random_state=seed)
    df = pd.DataFrame(X.astype(np.float32), columns=[f"f{i}" for i in range(p)])
    df["target"] = y
    return df


def synthetic_reg(n, p, seed):
    X, y = datasets.make_friedman1(n_samples=n, n_features=p, noise=1.0, random_state=seed)
    df = pd.DataFrame(X.astype(np.float32), columns=[f"f{i}" for i in range(p)])
    df["target"] = y
    return df


# name, frame maker, task, forestbatch options, scikit-learn estimator
cases = [
    ("breast_cancer", lambda: bundled(datasets.load_breast_cancer), "classification", [],
     lambda: RandomForestClassifier(100, random_state=0, n_jobs=threads)),
    ("wine", lambda: bundled(datasets.load_wine), "classification", [],
     lambda: RandomForestClassifier(100, random_state=0, n_jobs=threads)),
    ("digits", lambda: bundled(datasets.load_digits), "classification", [],
     lambda: RandomForestClassifier(100, random_state=0, n_jobs=threads)),
    ("digits_extra_trees", lambda: bundled(datasets.load_digits), "classification", ["--extra-trees"],
     lambda: ExtraTreesClassifier(100, random_state=0, n_jobs=threads)),
    ("diabetes", lambda: bundled(datasets.load_diabetes), "regression", [],
     lambda: RandomForestRegressor(100, random_state=0, n_jobs=threads)),
    ("synthetic_cls_100k", lambda: synthetic_cls(100_000, 20, 1), "classification", [],
     lambda: RandomForestClassifier(100, random_state=0, n_jobs=threads)),
    ("synthetic_reg_50k", lambda: synthetic_reg(50_000, 10, 2), "regression", ["--max-features", "0.33"],
     lambda: RandomForestRegressor(100, max_features=0.33, random_state=0, n_jobs=threads)),
]
if large:
    cases = [("synthetic_cls_1m_x50", lambda: synthetic_cls(1_000_000, 50, 3), "classification", [],
              lambda: RandomForestClassifier(n_trees, random_state=0, n_jobs=threads))]


def peak_rss_mb_of(cmd):
    """Runs cmd under /usr/bin/time -v; returns (stdout, stderr, seconds, peak MB)."""
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    secs = time.time() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return p.stdout, p.stderr, secs, int(m.group(1)) / 1024 if m else float("nan")


rows = []
for name, make, task, fb_opts, est in cases:
    if only and name != only:
        continue
    df = make()
    strat = df["target"] if task == "classification" else None
    tr, te = train_test_split(df, test_size=0.25, random_state=0, stratify=strat)
    trp, tep = os.path.join(work, f"{name}_train.csv"), os.path.join(work, f"{name}_test.csv")
    tr.to_csv(trp, index=False)
    te.to_csv(tep, index=False)
    # forestbatch
    out, err, fb_secs, fb_mb = peak_rss_mb_of(
        [fb, "train", "--data", trp, "--target", "target", "--task", task, "--test", tep, "--threads",
         str(threads), "--seed", "0", "--trees", str(n_trees)] + fb_opts)
    fit = float(re.search(r"trained .* in ([0-9.]+) s", err).group(1))
    if task == "classification":
        fb_score = float(re.search(r"roc_auc ([0-9.]+)", out).group(1))
    else:
        fb_score = float(re.search(r"rmse ([0-9.e+-]+)", out).group(1))
    # scikit-learn, in a child process so its peak memory is its own
    code = f"""
import sys, time, json, resource, numpy as np, pandas as pd
from sklearn.ensemble import *
from sklearn.metrics import roc_auc_score, mean_squared_error
tr = pd.read_csv({trp!r}); te = pd.read_csv({tep!r})
X = tr.drop(columns='target').values.astype(np.float32); y = tr['target'].values
Xt = te.drop(columns='target').values.astype(np.float32); yt = te['target'].values
m = {est().__repr__()}
m.set_params(n_jobs={threads}, random_state=0, n_estimators={sk_trees})
t0 = time.time(); m.fit(X, y); fit = time.time() - t0
if {task == 'classification'}:
    p = m.predict_proba(Xt)
    s = roc_auc_score(yt, p[:, 1]) if p.shape[1] == 2 else roc_auc_score(yt, p, multi_class='ovr')
else:
    s = mean_squared_error(yt, m.predict(Xt)) ** 0.5
print(json.dumps({{'fit': fit, 'score': s}}))
"""
    out, err, _, sk_mb = peak_rss_mb_of(["/usr/bin/python3", "-c", code])
    sk = json.loads(out.strip().splitlines()[-1])
    metric = "roc_auc" if task == "classification" else "rmse"
    diff = fb_score - sk["score"] if task == "classification" else (fb_score / sk["score"] - 1) * 100
    ok = abs(diff) <= 0.005 if task == "classification" else diff <= 2.0
    rows.append(dict(name=name, rows=len(tr), features=df.shape[1] - 1, metric=metric, forestbatch=fb_score,
                     sklearn=sk["score"], diff=diff, within=ok, fb_fit_s=fit, sk_fit_s=sk["fit"],
                     speedup=(sk["fit"] / sk_trees) / max(fit / n_trees, 1e-9), fb_peak_mb=fb_mb, sk_peak_mb=sk_mb,
                     trees=n_trees, sk_trees=sk_trees, threads=threads, fb_wall_s=fb_secs,
                     load=open("/proc/loadavg").read().split()[:3]))
    r = rows[-1]
    unit = "" if task == "classification" else "%"
    print(f"{name:22} {r['rows']:>8} x {r['features']:<3} {metric:7} fb {fb_score:.4f} sk {sk['score']:.4f} "
          f"diff {diff:+.4f}{unit} {'ok' if ok else 'OUTSIDE'} | fit fb {fit:.2f}s sk {sk['fit']:.2f}s "
          f"({r['speedup']:.1f}x) | peak fb {fb_mb:.0f} MB sk {sk_mb:.0f} MB", flush=True)
with open(os.path.join(work, "results.json"), "w") as f:
    json.dump(rows, f, indent=1)
