#!/usr/bin/python3
"""Generates the parity fixtures of scikit-learn Pipelines with preprocessing
steps (ColumnTransformer, encoders, imputers, scalers) in front of tree
models, for sklearn_pipeline_test.

Run with Debian's interpreter (scikit-learn 1.2):
    /usr/bin/python3 tests/sklearn/make_pipeline_fixtures.py [OUT_DIR]
OUT_DIR defaults to tests/sklearn/fixtures/pipeline. For every case it writes
  <case>.<ext>          the fitted Pipeline (joblib or pickle)
  <case>.X.csv          the input as forestbatch reads it: with a header (the
                        columns shuffled, plus a column the model ignores)
                        unless the Pipeline was fitted without column names;
                        numbers as Python repr, missing values empty
  <case>.expected.csv   one line per row: classifiers the label then
                        predict_proba; regressors the predicted value;
                        IsolationForest the label, score_samples,
                        decision_function
  <case>.features.csv   the preprocessing's output (pipeline[:-1].transform,
                        float64), one row per line
and one line per case in manifest.txt: case model_file kind n_classes;
refused/ holds Pipelines forestbatch refuses or stops on. With --hostile
OUT_DIR it writes only the hostile pickles (OUT_DIR defaults to
fixtures/pipeline/hostile), which scripts/check_fixtures.py compares by
bytes and never unpickles.
The expected values come from pipeline.predict on the same CSV read back by
pandas.read_csv (float_precision="round_trip": correctly rounded, as
forestbatch parses), with the columns in the order of the fit.
"""
import os
import pickle
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, IsolationForest, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (MaxAbsScaler, MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler,
                                   StandardScaler)
from sklearn.tree import DecisionTreeClassifier

from fixture_io import r, save

HOSTILE_ONLY = sys.argv[1:2] == ["--hostile"]
_args = sys.argv[2:] if HOSTILE_ONLY else sys.argv[1:]
OUT = _args[0] if _args else os.path.join(os.path.dirname(__file__), "fixtures", "pipeline")


def bundled(name, seed, missing=0.0):
    """One of scikit-learn's bundled data sets as a DataFrame (shuffled),
    with a fraction of its numbers made missing."""
    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "iris": datasets.load_iris, "diabetes": datasets.load_diabetes}[name]
    b = loader(as_frame=True)
    X, y = b.data.copy(), b.target.to_numpy()
    rng = np.random.RandomState(seed)
    perm = rng.permutation(len(X))
    X, y = X.iloc[perm].reset_index(drop=True), y[perm]
    if missing:
        mask = rng.rand(*X.shape) < missing
        X = X.mask(mask)
    return X, y


CITIES = ["paris", "lyon", "nice", "lille", "nantes", "brest", "metz", "pau", "caen", "dijon", "tours", "albi"]


def mixed(seed, n=600):
    """A table with string columns (some values missing), an integer code
    column, and numbers with missing values; a label that depends on all."""
    rng = np.random.RandomState(seed)
    city = rng.choice(CITIES, n, p=np.array([30, 20, 15, 10, 8, 5, 4, 3, 2, 1, 1, 1]) / 100)
    color = rng.choice(["red", "green", "blue", "Blue", "r\u00e9d \u00e9t\u00e9"], n)
    code = rng.choice([3, 7, 11, 42, -5], n)
    age = np.round(rng.normal(40, 12, n), 1)
    fare = np.round(rng.lognormal(3, 1, n), 4)
    score = rng.randn(n)
    df = pd.DataFrame({"city": city, "color": color, "code": code, "age": age, "fare": fare, "score": score})
    df["city"] = df["city"].astype(object)
    df["color"] = df["color"].astype(object)
    for col, frac in (("city", 0.05), ("color", 0.08), ("age", 0.1), ("fare", 0.05)):
        df.loc[rng.rand(n) < frac, col] = np.nan
    logit = (np.nan_to_num(df["age"].to_numpy(), nan=40) - 40) / 10 + (df["city"] == "paris") * 1.5 - \
        (df["color"] == "blue") + (df["code"] == 42) * 0.8 + score
    y = (logit + rng.randn(n) * 0.5 > 0.3).astype(int)
    return df, y


def unseen(df, rng, cols):
    """Test rows with categories never seen in training and missing values."""
    df = df.copy()
    for col in cols:
        idx = rng.choice(len(df), max(2, len(df) // 10), replace=False)
        if df[col].dtype == object:
            df.loc[idx[: len(idx) // 2], col] = "never-seen"
        else:
            df.loc[idx[: len(idx) // 2], col] = 12345
        if df[col].dtype == object:
            df.loc[idx[len(idx) // 2:], col] = np.nan
    return df


def num_pipe(imputer="median", scaler=None, indicator=False):
    steps = [("impute", SimpleImputer(strategy=imputer, add_indicator=indicator))]
    if scaler is not None:
        steps.append(("scale", scaler))
    return Pipeline(steps)


def cases():
    """(name, pipeline, X_train, y_train, X_test, kind, format, with_names)"""
    out = []
    # 1. Bundled, numeric: imputer + scaler + forest, columns by name.
    X, y = bundled("breast_cancer", 1, missing=0.05)
    p = Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler()),
                  ("forest", RandomForestClassifier(n_estimators=25, max_depth=8, random_state=1))])
    out.append(("bc-mean-standard-rf", p, X[60:], y[60:], X[:60], "classifier", "joblib", True))
    # 2. Median imputer with indicators, RobustScaler, extra trees regressor.
    X, y = bundled("diabetes", 2, missing=0.08)
    p = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", RobustScaler()),
                  ("trees", ExtraTreesRegressor(n_estimators=20, max_depth=9, random_state=2))])
    out.append(("diabetes-median-indicator-robust-et", p, X[50:], y[50:], X[:50], "regressor", "pickle4", True))
    # 3. No column names (numpy): by position; most_frequent + MinMaxScaler(clip) + tree.
    X, y = bundled("wine", 3, missing=0.05)
    p = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                  ("scale", MinMaxScaler(feature_range=(-1, 2), clip=True)),
                  ("tree", DecisionTreeClassifier(max_depth=6, random_state=3))])
    Xn = X.to_numpy()
    Xt = Xn[:40].copy()
    Xt[::7, 2] = 1e3  # beyond the fitted range: clipped
    out.append(("wine-positional-mostfrequent-minmax-clip-tree", p, Xn[40:], y[40:], Xt, "classifier", "pickle5",
                False))
    # 4. constant imputer + MaxAbsScaler + gradient boosting.
    X, y = bundled("iris", 4, missing=0.1)
    p = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=-1.5)), ("scale", MaxAbsScaler()),
                  ("gb", GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=4))])
    out.append(("iris-constant-maxabs-gb", p, X[30:], y[30:], X[:30], "classifier", "joblib-gzip", True))
    # 5. The canonical mixed table: ColumnTransformer, one-hot strings, forest.
    X, y = mixed(5)
    rng = np.random.RandomState(5)
    labels = np.array(["no", "yes"], dtype=object)[y]
    ct = ColumnTransformer([
        ("num", num_pipe("median", StandardScaler()), ["age", "fare"]),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), ["city", "color"]),
    ])
    p = Pipeline([("prep", ct), ("forest", RandomForestClassifier(n_estimators=30, max_depth=10, random_state=5))])
    out.append(("mixed-ct-onehot-ignore-rf", p, X[100:], labels[100:], unseen(X[:100], rng, ["city", "color"]),
                "classifier", "joblib", True))
    # 6. Ordinal encoding with unknown / missing codes, remainder passthrough, regression.
    X, y = mixed(6)
    yr = X["score"].to_numpy() * 3 + y
    rng = np.random.RandomState(6)
    ct = ColumnTransformer([
        ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
         ["city", "color"]),
        ("drop_fare", "drop", ["fare", "age"]),
    ], remainder="passthrough")
    p = Pipeline([("prep", ct), ("gb", GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=6))])
    out.append(("mixed-ordinal-remainder-gbr", p, X[100:], yr[100:], unseen(X[:100], rng, ["city", "color"]),
                "regressor", "pickle4", True))
    # 7. drop='first', infrequent categories, columns by index, dense output + scaler after the CT.
    X, y = mixed(7)
    rng = np.random.RandomState(7)
    ct = ColumnTransformer([
        ("onehot", OneHotEncoder(drop="first", min_frequency=20, handle_unknown="infrequent_if_exist",
                                 sparse_output=False), [0, 1]),
        ("num", SimpleImputer(strategy="mean", add_indicator=True), [3, 4, 5]),
    ])
    p = Pipeline([("prep", ct), ("scale", StandardScaler()),
                  ("forest", RandomForestClassifier(n_estimators=20, max_depth=8, random_state=7))])
    out.append(("mixed-onehot-drop-infrequent-byindex-scaled-rf", p, X[100:], y[100:],
                unseen(X[:100], rng, ["city", "color"]), "classifier", "joblib", True))
    # 8. Sparse ColumnTransformer output (max_categories, if_binary): the scaler multiplies by 1 / scale_.
    X, y = mixed(8)
    X["flag"] = np.where(y == 1, "on", "off").astype(object)
    X.loc[::13, "flag"] = np.where(X.loc[::13, "flag"] == "on", "off", "on")
    rng = np.random.RandomState(8)
    ct = ColumnTransformer([
        ("onehot", OneHotEncoder(max_categories=6, handle_unknown="infrequent_if_exist"), ["city"]),
        ("binary", OneHotEncoder(drop="if_binary", handle_unknown="ignore"), ["flag", "code"]),
        ("color", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                            ("onehot", OneHotEncoder(handle_unknown="ignore"))]), ["color"]),
        ("score", "passthrough", ["score"]),
    ], sparse_threshold=0.9)
    p = Pipeline([("prep", ct), ("scale", StandardScaler(with_mean=False)),
                  ("forest", RandomForestClassifier(n_estimators=20, max_depth=8, random_state=8))])
    Xt = unseen(X[:100], rng, ["city", "code"])
    out.append(("mixed-sparse-maxcategories-ifbinary-scaled-rf", p, X[100:], y[100:], Xt, "classifier", "joblib",
                True))
    # 9. Nested Pipelines, explicit categories (strings and numbers), slices and masks, IsolationForest.
    X, y = mixed(9)
    X = X[["code", "city", "age", "fare", "score"]]
    rng = np.random.RandomState(9)
    inner = ColumnTransformer([
        ("codes", OneHotEncoder(categories=[[-5, 3, 7, 11, 42, 99]], handle_unknown="ignore"), slice(0, 1)),
        ("city", OneHotEncoder(categories=[CITIES + ["rome"]], handle_unknown="ignore", sparse_output=False),
         np.array([False, True, False, False, False])),
        ("num", num_pipe("mean", MinMaxScaler()), slice("age", "fare")),
    ], remainder=StandardScaler(), sparse_threshold=0)
    p = Pipeline([("outer", Pipeline([("ct", inner)])),
                  ("model", Pipeline([("noop", "passthrough"),
                                      ("iforest", IsolationForest(n_estimators=15, random_state=9))]))])
    out.append(("mixed-nested-categories-slices-iforest", p, X[80:], None, unseen(X[:80], rng, ["code"]),
                "isolation", "pickle5", True))
    # 10. Numeric one-hot + ordinal on an integer column, regression forest, categories with NaN.
    X, y = mixed(10)
    yr = X["score"].to_numpy() + (X["code"] == 42)
    rng = np.random.RandomState(10)
    ct = ColumnTransformer([
        ("code", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["code"]),
        ("ord", OrdinalEncoder(), ["code"]),
        ("color", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color"]),
        ("age", SimpleImputer(strategy="median"), ["age"]),
    ])
    p = Pipeline([("prep", ct), ("forest", RandomForestRegressor(n_estimators=15, max_depth=8, random_state=10))])
    Xt = X[:80].copy()
    Xt.loc[::9, "color"] = "never-seen"
    out.append(("mixed-numeric-onehot-ordinal-nan-category-rf", p, X[80:], yr[80:], Xt, "regressor", "joblib",
                True))
    # 11. HistGradientBoosting (float64 comparisons, NaN, a native categorical
    # feature fed by an OrdinalEncoder whose unknown code -1 is missing to it).
    X, y = mixed(11)
    rng = np.random.RandomState(11)
    ct = ColumnTransformer([
        ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["city"]),
        ("num", StandardScaler(), ["age", "fare", "score"]),
    ])
    p = Pipeline([("prep", ct), ("hgb", HistGradientBoostingClassifier(max_iter=20, categorical_features=[0],
                                                                      random_state=11))])
    out.append(("mixed-ordinal-standard-nan-hgb", p, X[100:], y[100:], unseen(X[:100], rng, ["city"]),
                "classifier", "joblib", True))
    return out


def write_input(path, X, with_names, seed):
    """The test input as a CSV: shuffled columns and an extra one when the
    model reads columns by name; returns it read back as pandas reads it."""
    if with_names:
        cols = list(X.columns)
        rng = np.random.RandomState(seed)
        order = list(rng.permutation(len(cols)))
        shown = X[[cols[i] for i in order]].copy()
        shown.insert(1, "ignored_extra", np.arange(len(shown)) * 7)
        shown.to_csv(path, index=False, float_format=None)
        back = pd.read_csv(path, float_precision="round_trip")
        return back[cols]
    X = np.asarray(X, dtype=float)
    with open(path, "w") as f:
        for row in X:
            f.write(",".join("" if np.isnan(v) else r(v) for v in row) + "\n")
    return pd.read_csv(path, header=None, float_precision="round_trip").to_numpy()


def main():
    # Unknown categories in the test rows are on purpose.
    warnings.filterwarnings("ignore", message="Found unknown categories")
    manifest = []
    for n, (name, pipe, X_train, y_train, X_test, kind, fmt, with_names) in enumerate(cases()):
        if kind == "isolation":
            pipe.fit(X_train)
        else:
            pipe.fit(X_train, y_train)
        model_file = save(pipe, os.path.join(OUT, name), fmt)
        X_in = write_input(os.path.join(OUT, name + ".X.csv"), X_test, with_names, n)
        feats = pipe[:-1].transform(X_in)
        if hasattr(feats, "toarray"):
            feats = feats.toarray()
        feats = np.asarray(feats, dtype=np.float64)
        with open(os.path.join(OUT, name + ".features.csv"), "w") as f:
            for row in feats:
                f.write(",".join(r(v) for v in row) + "\n")
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            if kind == "classifier":
                for lab, pr in zip(pipe.predict(X_in), pipe.predict_proba(X_in)):
                    f.write(",".join([str(lab)] + [r(v) for v in pr]) + "\n")
            elif kind == "regressor":
                for v in pipe.predict(X_in):
                    f.write(r(v) + "\n")
            else:
                for lab, s, d in zip(pipe.predict(X_in), pipe.score_samples(X_in), pipe.decision_function(X_in)):
                    f.write(f"{lab},{r(s)},{r(d)}\n")
        n_classes = len(pipe.classes_) if kind == "classifier" else (2 if kind == "isolation" else 0)
        manifest.append(f"{name} {model_file} {kind} {n_classes}")
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    refused()


def refused():
    """Pipelines forestbatch must refuse or stop on, naming the step."""
    d = os.path.join(OUT, "refused")
    os.makedirs(d, exist_ok=True)
    from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures
    X, y = bundled("iris", 20)
    joblib.dump(Pipeline([("log", FunctionTransformer(np.log1p)),
                          ("forest", RandomForestClassifier(n_estimators=2, random_state=0))]).fit(X, y),
                os.path.join(d, "function-transformer.joblib"))
    ct = ColumnTransformer([("poly", PolynomialFeatures(), ["sepal length (cm)"])], remainder="passthrough")
    joblib.dump(Pipeline([("prep", ct), ("forest", RandomForestClassifier(n_estimators=2, random_state=0))])
                .fit(X, y), os.path.join(d, "polynomial-in-ct.joblib"))
    # handle_unknown='error': an unseen category in the input stops the run.
    X, y = mixed(21)
    p = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(), ["color"])])),
                  ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))])
    joblib.dump(p.fit(X.fillna({"color": "red"}), y), os.path.join(d, "onehot-error.joblib"))
    X[["color", "age"]].head(5).fillna({"color": "red"}).assign(
        color=["red", "green", "purple", "blue", "red"]).to_csv(os.path.join(d, "onehot-error.X.csv"), index=False)


class _Reduce:
    """Pickles as a call of `fn` with `args`: what a hostile file would hold."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def hostile():
    """Pipelines whose preprocessing attributes hold calls: each must be
    refused as invalid (exit 3) without anything being called. Protocol 2
    pickles (no joblib), deterministic bytes."""
    d = OUT
    os.makedirs(d, exist_ok=True)
    X, y = mixed(30, n=120)

    def fitted():
        ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                                ("num", StandardScaler(), ["score"])])
        return Pipeline([("prep", ct), ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))]).fit(X, y)

    def dump(name, p):
        with open(os.path.join(d, name), "wb") as f:
            pickle.dump(p, f, protocol=2)

    # A category that is a call of os.system.
    p = fitted()
    cats = p[0].named_transformers_["cat"].categories_[0].copy()
    cats[0] = _Reduce(os.system, ("echo pwned",))
    p[0].named_transformers_["cat"].categories_[0] = cats
    dump("category-os-system.pkl", p)
    # A scaler's mean_ built by calling numpy.float64 (a type reference, never callable).
    p = fitted()
    p[0].named_transformers_["num"].mean_ = _Reduce(np.float64, ("1.5",))
    dump("mean-reduce-numpy-float64.pkl", p)
    # OneHotEncoder.dtype as getattr(numpy, 'load').
    p = fitted()
    p[0].named_transformers_["cat"].dtype = _Reduce(getattr, (_Reduce(__import__, ("numpy",)), "load"))
    dump("dtype-getattr.pkl", p)
    # A ColumnTransformer column selection as slice(eval('...')).
    p = fitted()
    name, trans, _ = p[0].transformers_[1]
    p[0].transformers_[1] = (name, trans, _Reduce(slice, (_Reduce(eval, ("1",)),)))
    dump("columns-slice-eval.pkl", p)
    # An object array of categories holding another object (not a string or number).
    p = fitted()
    cats = p[0].named_transformers_["cat"].categories_[0].copy()
    cats[1] = StandardScaler()
    p[0].named_transformers_["cat"].categories_[0] = cats
    dump("category-object.pkl", p)


if __name__ == "__main__":
    if HOSTILE_ONLY:
        if not _args:
            OUT = os.path.join(OUT, "hostile")
        hostile()
    else:
        os.makedirs(OUT, exist_ok=True)
        main()
