#!/usr/bin/python3
"""Generates the scikit-learn parity fixtures used by sklearn_parity_test.

Run with Debian's interpreter (it has scikit-learn, numpy, joblib, lz4):
    /usr/bin/python3 tests/sklearn/make_fixtures.py [OUT_DIR]
OUT_DIR defaults to tests/sklearn/fixtures. For every case it writes
  <case>.<ext>        the model, in one of the save formats below
  <case>.X.csv        input rows, no header, float values as Python repr
  <case>.expected.csv one line per row: label, then predict_proba columns
                      (classifiers) or the predicted value (regressors)
and one line per case in manifest.txt: case model_file kind n_classes.
Cases cycle through estimators x wrappers x label kinds x save formats so
that each value of each dimension appears several times while the total
stays small (few shallow trees, small X).
"""
import os
import pickle
import sys

import joblib
import numpy as np
import sklearn
from sklearn import datasets
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.tree import (DecisionTreeClassifier, DecisionTreeRegressor,
                          ExtraTreeClassifier, ExtraTreeRegressor)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
os.makedirs(OUT, exist_ok=True)

CLASSIFIERS = [DecisionTreeClassifier, ExtraTreeClassifier, RandomForestClassifier, ExtraTreesClassifier]
REGRESSORS = [DecisionTreeRegressor, ExtraTreeRegressor, RandomForestRegressor, ExtraTreesRegressor]
WRAPPERS = ["none", "grid", "randomized", "pipeline-passthrough", "pipeline-none"]
FORMATS = ["joblib", "joblib-zlib", "joblib-gzip", "joblib-bz2", "joblib-xz", "joblib-lzma", "joblib-lz4",
           "pickle2", "pickle3", "pickle4", "pickle5"]


def load(kind, rng):
    """Returns (X, y) for a label kind, labels already transformed."""
    if kind == "binary":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif kind == "bool":
        X, y = datasets.load_breast_cancer(return_X_y=True)
        y = y.astype(bool)
    elif kind == "multiclass":
        X, y = datasets.load_digits(return_X_y=True)
    elif kind == "negints":
        X, y = datasets.load_iris(return_X_y=True)
        y = np.array([-7, 3, 42])[y]
    elif kind == "floats":
        X, y = datasets.load_iris(return_X_y=True)
        y = np.array([-1.0, 2.0, 5.0])[y]
    elif kind == "strings":
        X, y = datasets.load_wine(return_X_y=True)
        y = np.array(["barolo", "grignolino", "barbera"], dtype=object)[y]
    elif kind == "synthetic":
        X, y = datasets.make_classification(n_samples=4000, n_features=20, n_informative=10, n_classes=4,
                                            random_state=7)
    elif kind == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif kind == "synthetic-reg":
        X, y = datasets.make_regression(n_samples=4000, n_features=15, noise=5.0, random_state=7)
    else:
        raise ValueError(kind)
    perm = rng.permutation(len(X))
    return X[perm], y[perm]


def make_estimator(cls, wrapper, seed):
    kw = {"max_depth": 6, "random_state": seed}
    if "Forest" in cls.__name__ or "Trees" in cls.__name__:
        kw["n_estimators"] = 4
    est = cls(**kw)
    if wrapper == "grid":
        return GridSearchCV(est, {"max_depth": [3, 6]}, cv=2)
    if wrapper == "randomized":
        return RandomizedSearchCV(est, {"max_depth": [3, 5, 6], "min_samples_leaf": [1, 3]}, n_iter=2, cv=2,
                                  random_state=seed)
    if wrapper == "pipeline-passthrough":
        return Pipeline([("pre", "passthrough"), ("model", est)])
    if wrapper == "pipeline-none":
        return Pipeline([("pre", None), ("scale", "passthrough"), ("model", est)])
    return est


def inner(model):
    if hasattr(model, "best_estimator_"):
        return model.best_estimator_
    if isinstance(model, Pipeline):
        return model.steps[-1][1]
    return model


def edge_rows(model, X_test):
    """Rows whose values sit exactly on, just below and just above float32
    thresholds of the first tree: the cases where rounding matters."""
    est = inner(model)
    tree = (est.estimators_[0] if hasattr(est, "estimators_") else est).tree_
    rows = []
    internal = np.where(tree.children_left >= 0)[0][:8]
    for i, node in enumerate(internal):
        f, t = tree.feature[node], tree.threshold[node]
        t32 = np.float32(t)
        for v in (t32, np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))):
            r = X_test[i % len(X_test)].astype(np.float32).astype(np.float64)
            r[f] = float(v)
            rows.append(r)
    return np.array(rows)


def save(model, path_base, fmt):
    if fmt == "joblib":
        path = path_base + ".joblib"
        joblib.dump(model, path)
    elif fmt.startswith("joblib-"):
        comp = fmt.split("-", 1)[1]
        path = path_base + ".joblib." + comp
        joblib.dump(model, path, compress=(comp, 3))
    else:
        proto = int(fmt[len("pickle"):])
        path = path_base + ".pkl"
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=proto)
    return os.path.basename(path)


def fmt_float(v):
    return repr(float(v))


def main():
    rng = np.random.RandomState(0)
    cases = []
    for ci, cls in enumerate(CLASSIFIERS):
        for ki, kind in enumerate(["binary", "bool", "multiclass", "negints", "floats", "strings", "synthetic"]):
            cases.append((cls, kind))
    for cls in REGRESSORS:
        for kind in ["diabetes", "synthetic-reg"]:
            cases.append((cls, kind))
    manifest = []
    for n, (cls, kind) in enumerate(cases):
        wrapper = WRAPPERS[n % len(WRAPPERS)]
        fmt = FORMATS[n % len(FORMATS)]
        X, y = load(kind, np.random.RandomState(n))
        n_test = 60
        X_train, y_train, X_test = X[n_test:], y[n_test:], X[:n_test]
        model = make_estimator(cls, wrapper, n)
        model.fit(X_train, y_train)
        X_test = np.vstack([X_test, edge_rows(model, X_test)])
        name = f"{n:02d}-{cls.__name__}-{kind}-{wrapper}-{fmt}"
        model_file = save(model, os.path.join(OUT, name), fmt)
        with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
            for r in X_test:
                f.write(",".join(fmt_float(v) for v in r) + "\n")
        pred = model.predict(X_test)
        is_clf = hasattr(model, "predict_proba")
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            if is_clf:
                proba = model.predict_proba(X_test)
                for lab, p in zip(pred, proba):
                    f.write(",".join([str(lab)] + [fmt_float(v) for v in p]) + "\n")
            else:
                for v in pred:
                    f.write(fmt_float(v) + "\n")
        n_classes = len(inner(model).classes_) if is_clf else 0
        manifest.append(f"{name} {model_file} {'classifier' if is_clf else 'regressor'} {n_classes}")
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write(f"# generated by make_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}, joblib {joblib.__version__}\n")
        f.write("\n".join(manifest) + "\n")


def seed_expected():
    """scikit-learn's labels and probabilities for the seed model on all rows
    of the seed sample (read without a header, unlike the seed's predict.py)."""
    import gzip
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "seed")
    model = joblib.load(os.path.join(root, "model.joblib"))
    X = np.loadtxt(os.path.join(root, "test-data1-small.csv"), delimiter=",", ndmin=2)
    pred, proba = model.predict(X), model.predict_proba(X)
    with gzip.open(os.path.join(OUT, "seed.expected.csv.gz"), "wt") as f:
        for lab, p in zip(pred, proba):
            f.write(",".join([str(lab)] + [fmt_float(v) for v in p]) + "\n")


class _TreeWithMissing:
    """Pickles as sklearn.tree._tree.Tree with the given state, so a node
    dtype that scikit-learn 1.2 cannot produce (1.3's missing_go_to_left) can
    be written without running 1.3."""

    def __init__(self, tree, state):
        self.tree, self.state = tree, state

    def __reduce__(self):
        t = self.tree
        return (type(t), (t.n_features, np.asarray(t.n_classes), t.n_outputs), self.state)


def walk_with_missing(nodes, values, x):
    """scikit-learn >= 1.3's rule (_tree.pyx, apply_dense): NaN goes to
    missing_go_to_left ? left : right, else left when x <= threshold, with x
    cast to float32 first."""
    i = 0
    while nodes["left_child"][i] != -1:
        v = np.float32(x[nodes["feature"][i]])
        if np.isnan(v):
            i = nodes["left_child"][i] if nodes["missing_go_to_left"][i] else nodes["right_child"][i]
        elif float(v) <= nodes["threshold"][i]:
            i = nodes["left_child"][i]
        else:
            i = nodes["right_child"][i]
    row = values[i, 0]
    return row / (row.sum() or 1.0)


def missing_fixture():
    """A DecisionTreeClassifier whose node records carry missing_go_to_left
    (as scikit-learn 1.3+ writes them), plus rows with NaN and the expected
    probabilities under 1.3's rule. The walker is checked against
    scikit-learn 1.2's own predict_proba on the rows without NaN."""
    X, y = datasets.load_iris(return_X_y=True)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    state = model.tree_.__getstate__()
    old = state["nodes"]
    dtype = np.dtype({"names": list(old.dtype.names) + ["missing_go_to_left"],
                      "formats": [old.dtype.fields[n][0] for n in old.dtype.names] + [np.uint8],
                      "offsets": [old.dtype.fields[n][1] for n in old.dtype.names] + [56], "itemsize": 64})
    nodes = np.zeros(len(old), dtype=dtype)
    for n in old.dtype.names:
        nodes[n] = old[n]
    nodes["missing_go_to_left"] = np.random.RandomState(3).randint(0, 2, len(old))
    state = dict(state, nodes=nodes)
    X_test = X[::5].copy()
    for r in range(len(X_test)):
        assert np.allclose(walk_with_missing(nodes, state["values"], X_test[r]),
                           model.predict_proba(X_test[r:r + 1])[0], rtol=0, atol=1e-12)
    rs = np.random.RandomState(4)
    X_nan = X_test.copy()
    X_nan[rs.rand(*X_nan.shape) < 0.3] = np.nan
    model.tree_ = _TreeWithMissing(model.tree_, state)
    with open(os.path.join(OUT, "missing-go-to-left.pkl"), "wb") as f:
        pickle.dump(model, f, protocol=4)
    with open(os.path.join(OUT, "missing-go-to-left.X.csv"), "w") as f:
        for r in X_nan:
            f.write(",".join("" if np.isnan(v) else fmt_float(v) for v in r) + "\n")
    with open(os.path.join(OUT, "missing-go-to-left.expected.csv"), "w") as f:
        for r in X_nan:
            p = walk_with_missing(nodes, state["values"], r)
            f.write(",".join([str(model.classes_[int(np.argmax(p))])] + [fmt_float(v) for v in p]) + "\n")


def named_features_fixture():
    """A forest fitted on a DataFrame: feature_names_in_ is kept."""
    import pandas as pd
    data = datasets.load_iris(as_frame=True)
    model = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(data.data, data.target)
    joblib.dump(model, os.path.join(OUT, "named-features.joblib"), compress=("gzip", 3))


def unsupported_fixtures():
    """Models forestbatch must refuse with a clear message."""
    from sklearn.preprocessing import StandardScaler
    X, y = datasets.load_iris(return_X_y=True)
    d = os.path.join(OUT, "unsupported")
    os.makedirs(d, exist_ok=True)
    joblib.dump(Pipeline([("scale", StandardScaler()), ("rf", RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0))])
                .fit(X, y), os.path.join(d, "scaler-pipeline.joblib"))
    joblib.dump(RandomForestRegressor(n_estimators=2, max_depth=2, random_state=0).fit(X, np.c_[y, y]),
                os.path.join(d, "multioutput.joblib"))
    joblib.dump(GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2]}, cv=2, refit=False).fit(X, y),
                os.path.join(d, "grid-norefit.joblib"))


if __name__ == "__main__":
    main()
    seed_expected()
    missing_fixture()
    named_features_fixture()
    unsupported_fixtures()
