#!/usr/bin/python3
"""Confirms the crafted XGBoost 2.x/3.x fixtures with a real, newer XGBoost.

The fixtures named in CRAFTED are not files saved by XGBoost 2.x or 3.x (this
project's machines have only Debian's 1.7.4): make_fixtures.py and
make_pickle_fixtures.py build them from the documented layouts, and their
expected values come from 1.7 with the margins the newer versions derive
(CONFIRMATION.md). This script loads each one with whichever `xgboost` the
interpreter imports (put a newer build first on PYTHONPATH) and compares its
own predictions with the committed expectations, as float32 bits.

    PYTHONPATH=/path/to/xgboost/python-package /usr/bin/python3 \\
        tests/xgboost/confirm_with_xgboost.py

It prints one line per fixture and output (values compared, bit-identical,
largest difference) and exits 1 when any value differs by more than 1e-6
relative, 2 when the imported XGBoost is older than 2.0 (it would not be a
confirmation). It is not part of `make test`: no CI machine has that XGBoost.
"""
import json
import os
import pickle
import sys
import warnings

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
CRAFTED_PICKLES = os.path.join(HERE, "pickles", "crafted")
CRAFTED = ["v2_rf_binary", "v3_binary_logistic", "v3_multi_softprob", "v3_count_poisson"]
# name: whether a newer XGBoost must read it (2.x/3.x layouts); the 1.x ones
# are tried too, and a refusal by the newer version is only reported.
PICKLES = {"xgb2_classifier_multi": True, "xgb3_regressor_poisson": True, "xgb13_regressor_json": False,
           "xgb10_classifier_strings": False}


def read_csv(path):
    return np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)


def compare(label, got, want):
    got = np.asarray(got, dtype=np.float32).reshape(want.shape[0], -1)
    want = want.astype(np.float32)
    if got.shape != want.shape:
        print(f"{label}: shape {got.shape} != expected {want.shape}")
        return False
    same = int(np.sum(got.view(np.uint32) == want.view(np.uint32)))
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    rel = diff / np.maximum(np.abs(want.astype(np.float64)), 1e-30)
    worst = float(np.max(np.minimum(diff, rel))) if diff.size else 0.0
    ok = worst <= 1e-6
    print(f"{label}: {want.size} values, {same} bit-identical, largest difference {worst:.3g}"
          f" {'ok' if ok else 'DIFFERS'}")
    return ok


def confirm_models():
    ok = True
    for name in CRAFTED:
        meta = json.load(open(os.path.join(FIXTURES, name + ".meta.json")))
        X = read_csv(os.path.join(FIXTURES, name + ".X.csv")).astype(np.float32)
        want = read_csv(os.path.join(FIXTURES, name + ".expected.csv"))
        m = meta["margins"]
        rng = (meta["iteration_begin"], meta["iteration_end"])
        for ext in ("json", "ubj"):
            path = os.path.join(FIXTURES, f"{name}.{ext}")
            if not os.path.exists(path):
                continue
            booster = xgb.Booster(model_file=path)
            booster.set_param({"nthread": 1})
            d = xgb.DMatrix(X, missing=np.nan)
            margin = booster.predict(d, output_margin=True, iteration_range=rng)
            pred = booster.predict(d, iteration_range=rng)
            ok &= compare(f"{name}.{ext} margins", margin, want[:, :m])
            ok &= compare(f"{name}.{ext} predictions", pred, want[:, m:])
        proba_path = os.path.join(FIXTURES, name + ".proba.csv")
        if os.path.exists(proba_path):
            want_p = read_csv(proba_path)
            clf = xgb.XGBClassifier(n_jobs=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.load_model(os.path.join(FIXTURES, name + ".json"))
            try:  # a Booster's file has no n_classes_: set it as fit would (make_fixtures.py does)
                clf.n_classes_ = want_p.shape[1] - 1
            except AttributeError:  # a read-only property in this version: it read it from the file
                pass
            proba = clf.predict_proba(X)
            ok &= compare(f"{name} predict_proba", proba, want_p[:, :-1])
            ok &= compare(f"{name} predict", clf.predict(X), want_p[:, -1:])
    return ok


def confirm_pickles():
    ok = True
    for name in PICKLES:
        path = os.path.join(CRAFTED_PICKLES, name + ".pkl")
        meta = json.load(open(os.path.join(CRAFTED_PICKLES, name + ".meta.json")))
        X = read_csv(os.path.join(CRAFTED_PICKLES, name + ".X.csv")).astype(np.float32)
        with open(os.path.join(CRAFTED_PICKLES, name + ".expected.csv")) as f:
            rows = [line.rstrip("\n").split(",") for line in f]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with open(path, "rb") as f:
                    est = pickle.load(f)  # a fixture of this repository, not untrusted input
                if meta["kind"] == "classifier":
                    labels = [str(v) for v in est.predict(X)]
                    got = est.predict_proba(X)
                else:
                    labels, got = None, est.predict(X)
        except Exception as e:
            print(f"{name}: this XGBoost ({xgb.__version__}) cannot load or predict it: {type(e).__name__}: {e}")
            ok &= not PICKLES[name]
            continue
        if labels is not None:
            same = sum(a == r[0] for a, r in zip(labels, rows))
            print(f"{name} predict: {len(rows)} labels, {same} equal")
            ok &= same == len(rows) == len(labels)
            rows = [r[1:] for r in rows]
        ok &= compare(f"{name} {'predict_proba' if labels is not None else 'predict'}", got,
                      np.array([[float(v) for v in r] for r in rows]))
    return ok


def main():
    print(f"xgboost {xgb.__version__} from {os.path.dirname(xgb.__file__)}")
    if int(xgb.__version__.split(".")[0]) < 2:
        print("not a confirmation: this XGBoost is older than 2.0")
        return 2
    ok = confirm_models()
    ok &= confirm_pickles()
    print("all confirmed" if ok else "DIFFERENCES FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
