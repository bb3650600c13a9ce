#!/usr/bin/python3
"""Generates the parity fixtures of scikit-learn's boosted and isolation
ensembles (GradientBoosting*, IsolationForest) for sklearn_boosting_test.

Run with Debian's interpreter (scikit-learn 1.2):
    /usr/bin/python3 tests/sklearn/make_boosting_fixtures.py [OUT_DIR]
OUT_DIR defaults to tests/sklearn/fixtures/boosting. For every case it writes
  <case>.<ext>         the model (joblib or pickle)
  <case>.X.csv         input rows, no header, float values as Python repr
  <case>.expected.csv  one line per row: classifiers the label then
                       predict_proba; regressors the predicted value;
                       IsolationForest the label (1 / -1), score_samples,
                       decision_function
  <case>.raw.csv       gradient boosting: the raw scores before the link (scikit-learn's
                       _raw_predict), one row per line
  <case>.init.csv      gradient boosting: the raw scores' starting values (_raw_predict_init;
                       the same for every row)
and one line per case in manifest.txt: case model_file kind n_classes.
Every number is written with repr, so the C++ test can check bit-exactness
where scikit-learn's arithmetic is reproducible.
"""
import os
import pickle
import sys

import joblib
import numpy as np
import sklearn
from fixture_io import r, save
from sklearn import datasets
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, IsolationForest,
                              RandomForestClassifier)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures", "boosting")
os.makedirs(OUT, exist_ok=True)


def data(kind, seed):
    if kind == "binary":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif kind == "strings":
        X, y = datasets.load_wine(return_X_y=True)
        y = np.array(["barolo", "grignolino", "barbera"], dtype=object)[y]
    elif kind == "digits":
        X, y = datasets.load_digits(return_X_y=True)
    elif kind == "negints":
        X, y = datasets.load_breast_cancer(return_X_y=True)
        y = np.array([-3, 9])[y]
    elif kind == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif kind == "synthetic-reg":
        X, y = datasets.make_regression(n_samples=1500, n_features=12, noise=5.0, random_state=seed)
    else:
        raise ValueError(kind)
    perm = np.random.RandomState(seed).permutation(len(X))
    return X[perm], y[perm]


def edge_rows(trees, X_test):
    """Rows on, just below and just above the float32 thresholds of a few
    trees: the cases where the float32 cast of X matters."""
    rows = []
    for t, tree in enumerate(trees[:3]):
        tr = tree.tree_
        for i, node in enumerate(np.where(tr.children_left >= 0)[0][:4]):
            f, thr = tr.feature[node], np.float32(tr.threshold[node])
            for v in (thr, np.nextafter(thr, np.float32(-np.inf)), np.nextafter(thr, np.float32(np.inf))):
                r = X_test[(t * 4 + i) % len(X_test)].astype(np.float32).astype(np.float64)
                r[f] = float(v)
                rows.append(r)
    return np.array(rows)


GB_CASES = [
    # name, class, data, params, format
    ("gbc-binary", GradientBoostingClassifier, "binary",
     dict(n_estimators=30, max_depth=3, learning_rate=0.3, subsample=0.8), "joblib"),
    ("gbc-binary-deviance-negints", GradientBoostingClassifier, "negints",
     dict(loss="deviance", n_estimators=12, max_depth=2), "pickle4"),
    ("gbc-multiclass-strings", GradientBoostingClassifier, "strings",
     dict(n_estimators=20, max_depth=3, learning_rate=0.2, max_features=0.5), "joblib-gzip"),
    ("gbc-multiclass-early-stop", GradientBoostingClassifier, "strings",
     dict(n_estimators=300, max_depth=2, n_iter_no_change=3, validation_fraction=0.2, tol=1e-3), "joblib"),
    ("gbc-exponential", GradientBoostingClassifier, "binary",
     dict(loss="exponential", n_estimators=25, max_depth=3, learning_rate=0.5), "pickle5"),
    ("gbc-zero-init", GradientBoostingClassifier, "binary",
     dict(init="zero", n_estimators=10, max_depth=3), "pickle2"),
    ("gbc-multiclass-zero-init", GradientBoostingClassifier, "strings",
     dict(init="zero", n_estimators=8, max_depth=2), "joblib"),
    ("gbr-squared-error", GradientBoostingRegressor, "diabetes",
     dict(n_estimators=40, max_depth=3, learning_rate=0.1, subsample=0.7), "joblib"),
    ("gbr-absolute-error", GradientBoostingRegressor, "diabetes",
     dict(loss="absolute_error", n_estimators=25, max_depth=3), "pickle4"),
    ("gbr-huber", GradientBoostingRegressor, "synthetic-reg",
     dict(loss="huber", alpha=0.8, n_estimators=25, max_depth=4), "joblib-gzip"),
    ("gbr-quantile", GradientBoostingRegressor, "synthetic-reg",
     dict(loss="quantile", alpha=0.9, n_estimators=25, max_depth=3), "joblib"),
    ("gbr-zero-init-early-stop", GradientBoostingRegressor, "synthetic-reg",
     dict(init="zero", n_estimators=400, max_depth=2, learning_rate=0.3, n_iter_no_change=2,
          validation_fraction=0.15, tol=5.0), "pickle3"),
]


def gb_fixtures(manifest):
    for n, (name, cls, kind, params, fmt) in enumerate(GB_CASES):
        X, y = data(kind, n)
        X_test, X_train, y_train = X[:50], X[50:], y[50:]
        model = cls(random_state=n, **params).fit(X_train, y_train)
        if "early-stop" in name:
            assert model.n_estimators_ < params["n_estimators"], name
        X_test = np.vstack([X_test, edge_rows(model.estimators_[:, 0], X_test)])
        model_file = save(model, os.path.join(OUT, name), fmt)
        with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
            for row in X_test:
                f.write(",".join(r(v) for v in row) + "\n")
        is_clf = cls is GradientBoostingClassifier
        # _raw_predict reads X's buffer as float32: give it what predict's
        # validation gives it.
        raw = model._raw_predict(np.ascontiguousarray(X_test, dtype=np.float32))
        init = model._raw_predict_init(np.ascontiguousarray(X_test, dtype=np.float32))
        with open(os.path.join(OUT, name + ".init.csv"), "w") as f:
            f.write(",".join(r(v) for v in init[0]) + "\n")
        if is_clf:
            assert np.array_equal(raw.reshape(len(X_test), -1),
                                  model.decision_function(X_test).reshape(len(X_test), -1))
        with open(os.path.join(OUT, name + ".raw.csv"), "w") as f:
            for row in raw:
                f.write(",".join(r(v) for v in row) + "\n")
        pred = model.predict(X_test)
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            if is_clf:
                for lab, p in zip(pred, model.predict_proba(X_test)):
                    f.write(",".join([str(lab)] + [r(v) for v in p]) + "\n")
            else:
                for v in pred:
                    f.write(r(v) + "\n")
        kind_s = "classifier" if is_clf else "regressor"
        manifest.append(f"{name} {model_file} {kind_s} {len(model.classes_) if is_clf else 0}")


IF_CASES = [
    # name, data, params, format
    ("iforest-default", "binary", dict(n_estimators=12), "joblib-gzip"),
    ("iforest-contamination-features", "binary",
     dict(n_estimators=10, max_samples=100, contamination=0.1, max_features=0.5), "pickle4"),
    ("iforest-bootstrap-int-features", "diabetes",
     dict(n_estimators=15, max_samples=0.3, bootstrap=True, max_features=4), "joblib-gzip"),
    ("iforest-two-samples", "diabetes", dict(n_estimators=10, max_samples=2), "pickle5"),
    ("iforest-three-samples", "synthetic-reg", dict(n_estimators=10, max_samples=3, contamination=0.2), "joblib"),
]


def iforest_fixtures(manifest):
    for n, (name, kind, params, fmt) in enumerate(IF_CASES):
        X, _ = data(kind, 100 + n)
        X_test, X_train = X[:60], X[60:]
        model = IsolationForest(random_state=n, **params).fit(X_train)
        trees = model.estimators_
        if model._max_features == X.shape[1]:
            X_test = np.vstack([X_test, edge_rows(trees, X_test)])
        model_file = save(model, os.path.join(OUT, name), fmt)
        with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
            for row in X_test:
                f.write(",".join(r(v) for v in row) + "\n")
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            for lab, s, d in zip(model.predict(X_test), model.score_samples(X_test),
                                 model.decision_function(X_test)):
                f.write(f"{lab},{r(s)},{r(d)}\n")
        manifest.append(f"{name} {model_file} isolation 2")


def unsupported_fixtures():
    """Boosting models forestbatch must refuse, naming what it cannot do."""
    d = os.path.join(OUT, "unsupported")
    os.makedirs(d, exist_ok=True)
    X, y = datasets.load_iris(return_X_y=True)
    joblib.dump(GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0,
                                           init=RandomForestClassifier(n_estimators=2, random_state=0))
                .fit(X, y), os.path.join(d, "gb-forest-init.joblib"))
    joblib.dump(GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0,
                                           init=DummyClassifier(strategy="stratified", random_state=0))
                .fit(X, y), os.path.join(d, "gb-stratified-init.joblib"))
    # Models whose pickles hold globals beyond plain trees (slices, numpy
    # types, Cython loss objects, another library's classes): each must be
    # refused as unsupported (exit 4) naming what it is, not as unsafe.
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
    df = pd.DataFrame({"x": X[:, 0], "s": np.array(["a", "b", "c"])[y]})
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["s"]), ("num", "passthrough", slice(0, 1))])
    joblib.dump(Pipeline([("ct", ct), ("rf", RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0))])
                .fit(df, y), os.path.join(d, "column-transformer.joblib"))
    with open(os.path.join(d, "function-transformer.pkl"), "wb") as f:
        pickle.dump(Pipeline([("f", FunctionTransformer(np.log1p)),
                              ("rf", RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0))]).fit(X, y),
                    f, protocol=4)
    with open(os.path.join(d, "knn.pkl"), "wb") as f:
        pickle.dump(KNeighborsClassifier(algorithm="kd_tree").fit(X, y), f, protocol=4)
    with open(os.path.join(d, "hgb.pkl"), "wb") as f:
        pickle.dump(HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, y), f, protocol=4)
    try:
        import xgboost
        with open(os.path.join(d, "xgb-sklearn.pkl"), "wb") as f:
            pickle.dump(xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(X, y), f, protocol=4)
    except ImportError:
        pass


def main():
    manifest = []
    gb_fixtures(manifest)
    iforest_fixtures(manifest)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write(f"# generated by make_boosting_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        f.write("\n".join(manifest) + "\n")
    unsupported_fixtures()


if __name__ == "__main__":
    main()
