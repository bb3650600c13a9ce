#!/usr/bin/python3
"""The scikit-learn parity fixtures as a newer scikit-learn writes them.

Run with a scikit-learn of 1.4 or later (Debian 13's python3-sklearn 1.4.2
with numpy 2.2 made the committed set; see sklearn14/README.md):
    python3 tests/sklearn/make_newer_fixtures.py OUT_DIR

It writes make_fixtures.py's cases (every estimator, wrapper, label kind and
save format: pickles whose trees carry `missing_go_to_left` and whose arrays
name numpy 2's `numpy._core`), then models fitted on data with missing
values, which scikit-learn supports from 1.3 (single trees) and 1.4
(random forests): their NaN rows follow each node's learned
`missing_go_to_left`, and the expected values are that scikit-learn's own
`predict` / `predict_proba`. The same files as make_fixtures.py, listed in
the same manifest.txt.
"""
import os
import sys

OUT = sys.argv[1]
sys.argv = [sys.argv[0], OUT]  # make_fixtures reads OUT_DIR from argv on import
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

assert tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 4), sklearn.__version__


def with_missing(X, rs, frac):
    X = X.copy()
    X[rs.rand(*X.shape) < frac] = np.nan
    return X


def missing_value_cases():
    """(name, estimator, X, y, save format): fitted on rows with NaN."""
    rs = np.random.RandomState(11)
    Xi, yi = datasets.load_iris(return_X_y=True)
    Xd, yd = datasets.load_diabetes(return_X_y=True)
    Xb, yb = datasets.load_breast_cancer(return_X_y=True)
    return [
        ("nan-DecisionTreeClassifier-iris", DecisionTreeClassifier(max_depth=5, random_state=0),
         with_missing(Xi, rs, 0.2), yi, "joblib"),
        ("nan-RandomForestClassifier-cancer", RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0),
         with_missing(Xb, rs, 0.15), yb, "pickle5"),
        ("nan-RandomForestRegressor-diabetes", RandomForestRegressor(n_estimators=6, max_depth=6, random_state=0),
         with_missing(Xd, rs, 0.15), yd, "joblib-zlib"),
        ("nan-DecisionTreeRegressor-diabetes", DecisionTreeRegressor(max_depth=6, random_state=0),
         with_missing(Xd, rs, 0.3), yd, "pickle4"),
        ("nan-GridSearchCV-RandomForestClassifier-iris",
         GridSearchCV(RandomForestClassifier(n_estimators=4, random_state=0), {"max_depth": [2, 4]}, cv=2),
         with_missing(Xi, rs, 0.1), yi, "joblib"),
    ]


def main():
    mf.main()
    lines = []
    for name, est, X, y, fmt in missing_value_cases():
        n_test = 40
        est.fit(X[n_test:], y[n_test:])
        X_test = X[:n_test]
        assert np.isnan(X_test).any()
        model_file = mf.save(est, os.path.join(OUT, name), fmt)
        with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
            for r in X_test:
                f.write(",".join(mf.fmt_float(v) for v in r) + "\n")
        pred = est.predict(X_test)
        is_clf = hasattr(est, "predict_proba")
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            if is_clf:
                for lab, p in zip(pred, est.predict_proba(X_test)):
                    f.write(",".join([str(lab)] + [mf.fmt_float(v) for v in p]) + "\n")
            else:
                for v in pred:
                    f.write(mf.fmt_float(v) + "\n")
        n_classes = len(est.classes_) if is_clf else 0
        lines.append(f"{name} {model_file} {'classifier' if is_clf else 'regressor'} {n_classes}")
    with open(os.path.join(OUT, "manifest.txt"), "a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
