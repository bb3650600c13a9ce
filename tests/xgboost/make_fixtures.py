#!/usr/bin/python3
"""Generates the XGBoost parity fixtures in tests/xgboost/fixtures/.

Run with Debian's interpreter (it has python3-xgboost 1.7.4):
    /usr/bin/python3 tests/xgboost/make_fixtures.py [OUT_DIR]

For every case it writes NAME.json and NAME.ubj (the same model saved both
ways), NAME.X.csv (the input rows, no header, 'nan' for missing) and
NAME.expected.csv: one line per row with xgboost's margins then its default
predictions (Booster.predict), each as float32 printed with 9 significant
digits (which parse back to the same float32: the parity tests compare bits).
Classifiers also get NAME.proba.csv: the scikit-learn wrapper's
predict_proba columns (float32, 9 digits) then its predict (class index). NAME.meta.json says how many of each there are and which iteration
range the expectations use. Deterministic: fixed seeds, single thread.
"""
import ctypes
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import xgboost as xgb

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
N_ROWS = 120
N_FEAT = 5


def data(seed, n=N_ROWS, nan_frac=0.1):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, N_FEAT)).astype(np.float32)
    X[rs.rand(n, N_FEAT) < nan_frac] = np.nan
    return rs, X


def fmt(v):
    return "nan" if np.isnan(v) else "%.9g" % np.float32(v)


def write_proba(name, n_classes, X, iteration_range=None, base_margin=None, model_from=None):
    """The scikit-learn wrapper's predict_proba and predict for the model saved
    as NAME.json, or MODEL_FROM.json (n_classes_ is not in a Booster's file:
    set as fit would)."""
    clf = xgb.XGBClassifier(n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Loading a native XGBoost model with Scikit-Learn interface."
        clf.load_model(os.path.join(OUT, (model_from or name) + ".json"))
    clf.n_classes_ = n_classes
    kw = {} if iteration_range is None else {"iteration_range": iteration_range}
    proba = clf.predict_proba(X, base_margin=base_margin, **kw)
    label = clf.predict(X, base_margin=base_margin, **kw)
    assert proba.dtype == np.float32 and proba.shape == (len(X), n_classes), (name, proba.dtype, proba.shape)
    with open(os.path.join(OUT, name + ".proba.csv"), "w") as f:
        for p, l in zip(proba, label):
            f.write(",".join([fmt(v) for v in p] + ["%d" % l]) + "\n")


def write(name, booster, X, dmatrix, iteration_range=(0, 0), note="", range_is_default=True, saver=None,
          n_classes=0):
    saver = saver or booster
    saver.save_model(os.path.join(OUT, name + ".json"))
    saver.save_model(os.path.join(OUT, name + ".ubj"))
    margin = booster.predict(dmatrix, output_margin=True, iteration_range=iteration_range)
    pred = booster.predict(dmatrix, iteration_range=iteration_range)
    margin = margin.reshape(len(X), -1)
    pred = pred.reshape(len(X), -1)
    with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
        for row in X:
            f.write(",".join(fmt(v) for v in row) + "\n")
    with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
        for m, p in zip(margin, pred):
            f.write(",".join(fmt(v) for v in list(m) + list(p)) + "\n")
    meta = {
        "margins": int(margin.shape[1]),
        "predictions": int(pred.shape[1]),
        "iteration_begin": int(iteration_range[0]),
        "iteration_end": int(iteration_range[1]),
        "note": note,
        # False: forestbatch must be given the range explicitly to match.
        "range_is_default": range_is_default,
    }
    with open(os.path.join(OUT, name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    if n_classes:
        write_proba(name, n_classes, X, iteration_range=None if range_is_default else iteration_range)


def simple(name, objective, label_fn, rounds=8, extra=None, seed=1, n_classes=0):
    rs, X = data(seed)
    y = label_fn(rs, X)
    params = {"objective": objective, "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 7}
    params.update(extra or {})
    d = xgb.DMatrix(X, y, missing=np.nan)
    b = xgb.train(params, d, rounds)
    write(name, b, X, xgb.DMatrix(X, missing=np.nan), note=objective, n_classes=n_classes)


def x0(X):
    return np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1])


def main():
    os.makedirs(OUT, exist_ok=True)
    binary = lambda rs, X: (x0(X) + 0.5 * rs.normal(size=len(X)) > 0).astype(float)
    multi = lambda rs, X: np.digitize(x0(X) + 0.3 * rs.normal(size=len(X)), [-0.5, 0.5]).astype(float)
    real = lambda rs, X: x0(X) + 0.1 * rs.normal(size=len(X))
    positive = lambda rs, X: np.exp(0.5 * x0(X)) + 0.1 * rs.rand(len(X))
    counts = lambda rs, X: rs.poisson(np.exp(0.5 * x0(X))).astype(float)
    unit = lambda rs, X: 1.0 / (1.0 + np.exp(-x0(X)))

    simple("binary_logistic", "binary:logistic", binary, n_classes=2)
    simple("binary_logitraw", "binary:logitraw", binary, extra={"base_score": 0.3})
    simple("binary_hinge", "binary:hinge", binary, n_classes=2)
    simple("multi_softprob", "multi:softprob", multi, extra={"num_class": 3}, n_classes=3)
    simple("multi_softmax", "multi:softmax", multi, extra={"num_class": 3})
    simple("reg_squarederror", "reg:squarederror", real)
    simple("reg_squaredlogerror", "reg:squaredlogerror", positive)
    simple("reg_pseudohubererror", "reg:pseudohubererror", real)
    simple("reg_absoluteerror", "reg:absoluteerror", real)
    simple("reg_logistic", "reg:logistic", unit)
    simple("count_poisson", "count:poisson", counts)
    simple("reg_gamma", "reg:gamma", positive)
    simple("reg_tweedie", "reg:tweedie", positive, extra={"tweedie_variance_power": 1.4})

    # DART: each tree's output is scaled by its weight_drop at prediction.
    simple("dart_binary", "binary:logistic", binary, rounds=6,
           extra={"booster": "dart", "rate_drop": 0.3, "skip_drop": 0.0, "one_drop": 1}, n_classes=2)

    # Ranking: identity link.
    rs, X = data(2)
    y = np.clip(np.round(x0(X) + 1), 0, 3)
    d = xgb.DMatrix(X, y, missing=np.nan)
    d.set_group([30] * 4)
    b = xgb.train({"objective": "rank:pairwise", "max_depth": 3, "nthread": 1, "seed": 7}, d, 6)
    write("rank_pairwise", b, X, xgb.DMatrix(X, missing=np.nan), note="rank:pairwise")

    # Random-forest mode: several parallel trees per round, binary and multiclass.
    simple("rf_binary", "binary:logistic", binary, rounds=3,
           extra={"num_parallel_tree": 4, "subsample": 0.8, "colsample_bynode": 0.8, "eta": 1.0}, n_classes=2)
    simple("rf_multi", "multi:softprob", multi, rounds=2,
           extra={"num_class": 3, "num_parallel_tree": 3, "subsample": 0.8, "colsample_bynode": 0.8},
           n_classes=3)

    # Categorical features (hist): one partition-based split feature and one
    # one-hot one; input includes NaN, negative, fractional and unseen values.
    rs = np.random.RandomState(3)
    n = 300
    c1 = rs.randint(0, 8, n)
    c2 = rs.randint(0, 3, n)
    xn = rs.normal(size=n)
    y = np.isin(c1, [1, 4, 6]).astype(float) * 2 + (c2 == 1) + 0.5 * xn + 0.1 * rs.normal(size=n)
    df = pd.DataFrame({"c1": pd.Categorical(c1, categories=range(8)),
                       "c2": pd.Categorical(c2, categories=range(3)), "x": xn})
    d = xgb.DMatrix(df, y, enable_categorical=True)
    b = xgb.train({"tree_method": "hist", "max_depth": 3, "max_cat_to_onehot": 4, "nthread": 1,
                   "seed": 7, "max_bin": 32}, d, 10)
    Xc = np.stack([c1, c2, xn], axis=1).astype(np.float32)[:100]
    odd = np.array([[-1, 1, 0.1], [2.5, 0.5, 0.2], [1.5, 1.9, -0.3], [100, 7, 0.0], [np.nan, np.nan, np.nan],
                    [-0.5, -0.0, 1.0], [3.99999, 1e9, -1.0], [6.0, 2 ** 24, 0.4]], dtype=np.float32)
    Xc = np.concatenate([Xc, odd])
    Xc[rs.rand(*Xc.shape) < 0.05] = np.nan
    dm = xgb.DMatrix(Xc, feature_names=["c1", "c2", "x"], feature_types=["c", "c", "q"],
                     enable_categorical=True, missing=np.nan)
    write("categorical_reg", b, Xc, dm, note="reg:squarederror, categorical")

    # Multiclass with categorical features.
    yc = np.digitize(y, [1.0, 2.0]).astype(float)
    d = xgb.DMatrix(df, yc, enable_categorical=True)
    b = xgb.train({"objective": "multi:softprob", "num_class": 3, "tree_method": "hist", "max_depth": 3,
                   "max_cat_to_onehot": 1, "nthread": 1, "seed": 7}, d, 4)
    write("categorical_multi", b, Xc, dm, note="multi:softprob, categorical")

    # Early stopping through the scikit-learn wrapper: the file records
    # best_iteration and the wrapper predicts with trees [0, best_iteration].
    rs, X = data(4, n=400)
    y = binary(rs, X)
    m = xgb.XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.6, early_stopping_rounds=3, n_jobs=1,
                          random_state=7)
    m.fit(X[:250], y[:250], eval_set=[(X[250:], y[250:])], verbose=False)
    b = m.get_booster()
    assert b.num_boosted_rounds() > m.best_iteration + 1, "early stopping did not stop early"
    Xs = X[:N_ROWS]
    write("sklearn_early_stopping", b, Xs, xgb.DMatrix(Xs, missing=np.nan),
          iteration_range=(0, m.best_iteration + 1), note="XGBClassifier with early stopping", saver=m,
          n_classes=2)
    assert np.allclose(m.predict_proba(Xs)[:, 1],
                       b.predict(xgb.DMatrix(Xs), iteration_range=(0, m.best_iteration + 1)))
    # The same booster through Booster.predict with an explicit range [1, 3).
    write("iteration_range_1_3", b, Xs, xgb.DMatrix(Xs, missing=np.nan), iteration_range=(1, 3),
          note="Booster.predict(iteration_range=(1, 3))", range_is_default=False, n_classes=2)
    craft_v3()


def craft_v3():
    """XGBoost 2.x/3.x-style files, made by editing 1.7 JSON per the documented
    schema (this machine has no XGBoost 3): version [3, 1, 0], base_score as a
    vector string, iteration_indptr, and the 3.1 "cats" block. Expectations
    are XGBoost 1.7's own float32 results for the same trees started from the
    margins that 2.x/3.x derive from the new base_score (Booster.predict with
    a DMatrix base_margin: 1.7 then starts its float32 sums there, as 3.x
    starts them at its base score's margin)."""
    libm = ctypes.CDLL("libm.so.6")
    libm.logf.restype = ctypes.c_float
    libm.logf.argtypes = [ctypes.c_float]

    def load(name):
        with open(os.path.join(OUT, name + ".json")) as f:
            return json.load(f)

    def save(name, j, X_from, margins, preds, note, n_classes=0, base_margin=None):
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(j, f, separators=(",", ":"))
        with open(os.path.join(OUT, X_from + ".X.csv")) as src, open(os.path.join(OUT, name + ".X.csv"), "w") as dst:
            dst.write(src.read())
        with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
            for m, p in zip(margins, preds):
                f.write(",".join(fmt(v) for v in list(m) + list(p)) + "\n")
        with open(os.path.join(OUT, name + ".meta.json"), "w") as f:
            json.dump({"margins": len(margins[0]), "predictions": len(preds[0]), "iteration_begin": 0,
                       "iteration_end": 0, "note": note, "range_is_default": True}, f, indent=1, sort_keys=True)
            f.write("\n")
        if n_classes:
            write_proba(name, n_classes, X_of(X_from), base_margin=base_margin, model_from=X_from)

    def X_of(name):
        return np.loadtxt(os.path.join(OUT, name + ".X.csv"), delimiter=",", ndmin=2).astype(np.float32)

    def predict_from(name, base_margin):
        """1.7's float32 margins and predictions of NAME's trees, started at base_margin."""
        b = xgb.Booster(model_file=os.path.join(OUT, name + ".json"))
        X = X_of(name)
        d = xgb.DMatrix(X, base_margin=np.tile(base_margin, (len(X), 1)).reshape(len(X), -1), missing=np.nan)
        m = b.predict(d, output_margin=True).reshape(len(X), -1)
        p = b.predict(d).reshape(len(X), -1)
        return m, p

    def expected(name):
        e = np.loadtxt(os.path.join(OUT, name + ".expected.csv"), delimiter=",", ndmin=2)
        return e

    def v3(j, n_trees, per_round, base_score):
        j["version"] = [3, 1, 0]
        j["learner"]["learner_model_param"]["base_score"] = base_score
        model = j["learner"]["gradient_booster"]["model"]
        model["iteration_indptr"] = list(range(0, n_trees + 1, per_round))
        model["cats"] = {"enc": [], "feature_segments": [], "sorted_idx": []}
        return j

    # Binary logistic, "[5E-1]": same predictions as 1.7.
    j = load("binary_logistic")
    n = len(j["learner"]["gradient_booster"]["model"]["trees"])
    e = expected("binary_logistic")
    save("v3_binary_logistic", v3(j, n, 1, "[5E-1]"), "binary_logistic", e[:, :1], e[:, 1:], "3.1 schema",
         n_classes=2)

    # Multiclass with a per-class base_score vector: multi:softprob has no
    # ProbToMargin, so each class's sum starts at its value as is.
    j = load("multi_softprob")
    n = len(j["learner"]["gradient_booster"]["model"]["trees"])
    base = np.array([0.25, 0.5, 2.0], dtype=np.float32)
    m, p = predict_from("multi_softprob", base)
    save("v3_multi_softprob", v3(j, n, 3, "[2.5E-1,5E-1,2E0]"), "multi_softprob", m, p,
         "3.1 schema, vector base_score", n_classes=3, base_margin=np.tile(base, (N_ROWS, 1)))

    # Random forest (4 parallel trees a round) with iteration_indptr, 2.0 style.
    j = load("rf_binary")
    n = len(j["learner"]["gradient_booster"]["model"]["trees"])
    j["version"] = [2, 0, 3]
    j["learner"]["gradient_booster"]["model"]["iteration_indptr"] = list(range(0, n + 1, 4))
    e = expected("rf_binary")
    save("v2_rf_binary", j, "rf_binary", e[:, :1], e[:, 1:], "2.0 schema", n_classes=2)

    # Count:poisson with a 3.1 base_score of 2: the sums start at logf(2)
    # (PoissonRegression::ProbToMargin, float32 std::log).
    j = load("count_poisson")
    n = len(j["learner"]["gradient_booster"]["model"]["trees"])
    m, p = predict_from("count_poisson", np.array([libm.logf(2.0)], dtype=np.float32))
    save("v3_count_poisson", v3(j, n, 1, "[2E0]"), "count_poisson", m, p, "3.1 schema, base_score 2")


if __name__ == "__main__":
    main()
