#!/usr/bin/python3
"""Generates the pickled XGBoost estimator fixtures in tests/xgboost/pickles/.

Run with Debian's interpreter (it has python3-xgboost 1.7.4):
    /usr/bin/python3 tests/xgboost/make_pickle_fixtures.py [OUT_DIR [--real | --crafted]]

Real pickles (XGBoost 1.7.4): XGBClassifier (binary, multiclass, early
stopping), XGBRegressor (squared error, count:poisson), XGBRFClassifier,
XGBRanker, each with pickle and/or joblib, a Pipeline holding only the
estimator (one with a 'passthrough' step first) and a GridSearchCV.

Crafted pickles (this machine has only 1.7; see CONFIRMATION.md): the pickle
layouts of XGBoost 1.0-1.2 and of 2.x/3.x, built from the sources'
documented state (python-package/xgboost/core.py Booster.__getstate__,
sklearn.py, src/learner.cc LearnerImpl::Save) around models made by 1.7:
  - xgb10_classifier_strings: XGBClassifier state of 1.0-1.2: classes_ (any
    labels: here strings) and _le (xgboost.compat.XGBoostLabelEncoder), the
    Booster handle "CONFIG-offset:" + int64 length + legacy binary model +
    JSON configuration (what 1.0-1.2's Learner::Save writes);
  - xgb13_regressor_json: a 1.3-1.5 handle, the JSON memory snapshot
    {"Model": ..., "Config": ...};
  - xgb2_classifier_multi / xgb3_regressor_poisson: 2.x/3.x state (n_classes_
    without classes_, which is a property there), the handle a UBJSON memory
    snapshot whose Model has the 2.x/3.1 schema.
Each fixture NAME.pkl / NAME.joblib has NAME.X.csv (float32 rows) and
NAME.expected.csv: per row the predicted label (classifiers, as Python prints
it) then predict_proba columns, or the predicted value (regressors), float32
values printed with 9 significant digits. NAME.meta.json says what the file
holds.

Hostile pickles (crafted/hostile_*.pkl): truncated, wrong globals, booster
handles whose lengths exceed the buffer; each must be refused with exit 3.
The crafted and hostile files go to OUT/crafted (compared byte for byte by
make check-fixtures: they are never unpickled by Python there).
"""
import copyreg
import ctypes
import io
import json
import os
import pickle
import struct
import sys
import types
import warnings

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "pickles")
N_ROWS = 80


def fmt(v):
    return "nan" if np.isnan(v) else "%.9g" % np.float32(v)


def data(seed, n=300, nf=4, nan_frac=0.05):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, nf)).astype(np.float32)
    X[rs.rand(n, nf) < nan_frac] = np.nan
    return rs, X


def write_case(name, ext, blob, X, labels, values, meta):
    with open(os.path.join(OUT, name + "." + ext), "wb") as f:
        f.write(blob)
    with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
        for row in X:
            f.write(",".join(fmt(v) for v in row) + "\n")
    with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
        for i in range(len(X)):
            cells = ([str(labels[i])] if labels is not None else []) + [fmt(v) for v in np.atleast_1d(values[i])]
            f.write(",".join(cells) + "\n")
    meta = dict(meta, file=name + "." + ext)
    with open(os.path.join(OUT, name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


def label_text(v):
    """A label as forestbatch spells it (Python's repr of the numpy item)."""
    v = v.item() if hasattr(v, "item") else v
    return str(v)


def real():
    import joblib
    import xgboost as xgb
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    def dump(obj, how):
        if how == "pkl":
            return pickle.dumps(obj, protocol=4)
        buf = io.BytesIO()
        joblib.dump(obj, buf)
        return buf.getvalue()

    def classifier(name, est, X, y, how, note, fit_kw=None):
        est.fit(X, y, **(fit_kw or {}))
        inner = est
        while not isinstance(inner, xgb.XGBModel):
            inner = inner.best_estimator_ if hasattr(inner, "best_estimator_") else inner.steps[-1][1]
        Xp = X[:N_ROWS]
        proba = est.predict_proba(Xp)
        labels = [label_text(v) for v in est.predict(Xp)]
        assert proba.dtype == np.float32
        write_case(name, how, dump(est, how), Xp, labels, proba,
                   {"kind": "classifier", "note": note, "xgboost": xgb.__version__,
                    "classes": [label_text(c) for c in inner.classes_]})

    def regressor(name, est, X, y, how, note, fit_kw=None):
        est.fit(X, y, **(fit_kw or {}))
        Xp = X[:N_ROWS]
        pred = est.predict(Xp)
        assert pred.dtype == np.float32
        write_case(name, how, dump(est, how), Xp, None, pred,
                   {"kind": "regressor", "note": note, "xgboost": xgb.__version__})

    common = {"n_estimators": 6, "max_depth": 3, "n_jobs": 1, "random_state": 7}
    rs, X = data(1)
    yb = (np.nan_to_num(X[:, 0]) + 0.5 * rs.normal(size=len(X)) > 0).astype(int)
    ym = np.digitize(np.nan_to_num(X[:, 1]) + 0.3 * rs.normal(size=len(X)), [-0.5, 0.5])
    yr = np.nan_to_num(X[:, 0]) * 2 + 0.1 * rs.normal(size=len(X))
    yc = rs.poisson(np.exp(0.5 * np.nan_to_num(X[:, 0])))

    classifier("xgbclassifier_binary", xgb.XGBClassifier(**common), X, yb, "pkl", "XGBClassifier binary, pickle")
    classifier("xgbclassifier_binary_joblib", xgb.XGBClassifier(**common), X, yb, "joblib",
               "XGBClassifier binary, joblib")
    classifier("xgbclassifier_multi", xgb.XGBClassifier(**common), X, ym, "joblib",
               "XGBClassifier 3 classes, joblib")
    classifier("xgbrfclassifier", xgb.XGBRFClassifier(n_estimators=4, max_depth=3, n_jobs=1, random_state=7),
               X, yb, "pkl", "XGBRFClassifier, pickle")
    classifier("xgbclassifier_early_stopping",
               xgb.XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.6, early_stopping_rounds=3,
                                 n_jobs=1, random_state=7), X[:200], yb[:200], "pkl",
               "XGBClassifier with early stopping (predicts with best_iteration)",
               {"eval_set": [(X[200:], yb[200:])], "verbose": False})
    classifier("pipeline_xgbclassifier", Pipeline([("model", xgb.XGBClassifier(**common))]), X, ym, "joblib",
               "Pipeline([('model', XGBClassifier)])")
    classifier("pipeline_passthrough_xgbclassifier",
               Pipeline([("prep", "passthrough"), ("model", xgb.XGBClassifier(**common))]), X, yb, "pkl",
               "Pipeline([('prep', 'passthrough'), ('model', XGBClassifier)])")
    regressor("xgbregressor", xgb.XGBRegressor(**common), X, yr, "pkl", "XGBRegressor, pickle")
    regressor("xgbregressor_poisson", xgb.XGBRegressor(objective="count:poisson", **common), X, yc, "joblib",
              "XGBRegressor count:poisson, joblib")
    regressor("gridsearch_xgbregressor",
              GridSearchCV(xgb.XGBRegressor(**common), {"max_depth": [2, 3]}, cv=2), X, yr, "joblib",
              "GridSearchCV(XGBRegressor).best_estimator_")
    ranker = xgb.XGBRanker(**common)
    regressor("xgbranker", ranker, X, np.clip(np.round(yr + 1), 0, 3).astype(int), "pkl", "XGBRanker, pickle",
              {"group": [75] * 4})


# ---- Crafted layouts: stand-in classes pickled under XGBoost's names ----

def fake_modules():
    """Modules named like XGBoost's, holding stand-in classes, so that pickle
    writes XGBoost's globals without this process importing XGBoost's code
    into the pickled objects."""
    made = {}
    for mod, names in {"xgboost": [], "xgboost.core": ["Booster"], "xgboost.compat": ["XGBoostLabelEncoder"],
                       "xgboost.sklearn": ["XGBClassifier", "XGBRegressor"]}.items():
        m = types.ModuleType(mod)
        for n in names:
            cls = type(n, (object,), {"__module__": mod, "__qualname__": n})
            cls.__reduce_ex__ = lambda self, proto: (copyreg.__newobj__, (type(self),), self.__dict__)
            setattr(m, n, cls)
        made[mod] = m
    return made


def instance(modules, mod, name, state):
    obj = getattr(modules[mod], name)()
    obj.__dict__.update(state)
    return obj


def dumps_with(modules, obj):
    saved = {k: sys.modules.get(k) for k in modules}
    sys.modules.update(modules)
    try:
        return pickle.dumps(obj, protocol=4)
    finally:
        for k, v in saved.items():
            if v is None:
                del sys.modules[k]
            else:
                sys.modules[k] = v


def ubjson(v):
    """UBJSON (Draft 12) as XGBoost writes it: L lengths, d floats, L ints."""
    if isinstance(v, dict):
        out = b"{"
        for k, x in v.items():
            kb = k.encode()
            out += b"L" + struct.pack(">q", len(kb)) + kb + ubjson(x)
        return out + b"}"
    if isinstance(v, list):
        return b"[" + b"".join(ubjson(x) for x in v) + b"]"
    if isinstance(v, bool):
        return b"T" if v else b"F"
    if isinstance(v, int):
        return b"L" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"d" + struct.pack(">f", v)
    if isinstance(v, str):
        b = v.encode()
        return b"SL" + struct.pack(">q", len(b)) + b
    if v is None:
        return b"Z"
    raise TypeError(type(v))


def crafted():
    import xgboost as xgb
    libm = ctypes.CDLL("libm.so.6")
    libm.logf.restype = ctypes.c_float
    libm.logf.argtypes = [ctypes.c_float]
    rs, X = data(2)
    Xp = X[:N_ROWS]
    common = {"n_estimators": 5, "max_depth": 3, "n_jobs": 1, "random_state": 7}

    # 1.0-1.2: string labels through _le, legacy binary + JSON config handle.
    yb = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    m = xgb.XGBClassifier(**common).fit(X, yb)
    b = m.get_booster()
    binary = bytes(b.save_raw(raw_format="deprecated"))
    config = b.save_config().encode()
    handle = b"CONFIG-offset:" + struct.pack("<q", len(binary)) + binary + config
    classes = np.array(["cat", "dog"], dtype=object)
    mods = fake_modules()
    booster = instance(mods, "xgboost.core", "Booster", {"handle": bytearray(handle), "feature_names": None,
                                                         "feature_types": None})
    le = instance(mods, "xgboost.compat", "XGBoostLabelEncoder", {"classes_": classes})
    est = instance(mods, "xgboost.sklearn", "XGBClassifier", {
        "max_depth": 3, "learning_rate": 0.1, "n_estimators": 5, "objective": "binary:logistic",
        "booster": "gbtree", "n_jobs": 1, "missing": float("nan"), "kwargs": {}, "_Booster": booster,
        "classes_": classes, "n_classes_": 2, "_le": le, "_features_count": 4})
    proba = m.predict_proba(Xp)
    labels = [classes[i] for i in m.predict(Xp)]
    write_case("xgb10_classifier_strings", "pkl", dumps_with(mods, est), Xp, labels, proba,
               {"kind": "classifier", "note": "crafted: XGBoost 1.0-1.2 layout (legacy binary handle, _le)",
                "xgboost": "1.0-1.2 layout", "classes": list(classes)})

    # 1.3-1.5: JSON memory snapshot.
    yr = np.nan_to_num(X[:, 0]) * 2 + 0.1 * rs.normal(size=len(X))
    m = xgb.XGBRegressor(**common).fit(X, yr)
    b = m.get_booster()
    snapshot = {"Model": json.loads(b.save_raw(raw_format="json")), "Config": json.loads(b.save_config())}
    handle = json.dumps(snapshot, separators=(",", ":")).encode()
    mods = fake_modules()
    booster = instance(mods, "xgboost.core", "Booster", {"handle": bytearray(handle), "feature_names": None,
                                                         "feature_types": None})
    est = instance(mods, "xgboost.sklearn", "XGBRegressor", {
        "max_depth": 3, "n_estimators": 5, "objective": "reg:squarederror", "_Booster": booster,
        "n_features_in_": 4})
    write_case("xgb13_regressor_json", "pkl", dumps_with(mods, est), Xp, None, m.predict(Xp),
               {"kind": "regressor", "note": "crafted: XGBoost 1.3-1.5 layout (JSON snapshot handle)",
                "xgboost": "1.3-1.5 layout"})

    # 2.x: multiclass, n_classes_ only, UBJSON snapshot of a 2.0-schema model.
    ym = np.digitize(np.nan_to_num(X[:, 1]), [-0.5, 0.5])
    m = xgb.XGBClassifier(**common).fit(X, ym)
    b = m.get_booster()
    model = json.loads(b.save_raw(raw_format="json"))
    model["version"] = [2, 1, 3]
    n = len(model["learner"]["gradient_booster"]["model"]["trees"])
    model["learner"]["gradient_booster"]["model"]["iteration_indptr"] = list(range(0, n + 1, 3))
    handle = ubjson({"Config": json.loads(b.save_config()), "Model": model})
    mods = fake_modules()
    booster = instance(mods, "xgboost.core", "Booster", {"handle": bytearray(handle)})
    est = instance(mods, "xgboost.sklearn", "XGBClassifier", {
        "n_estimators": 5, "objective": "multi:softprob", "_Booster": booster, "n_classes_": 3,
        "n_features_in_": 4})
    write_case("xgb2_classifier_multi", "pkl", dumps_with(mods, est), Xp, [str(v) for v in m.predict(Xp)],
               m.predict_proba(Xp),
               {"kind": "classifier", "note": "crafted: XGBoost 2.x layout (UBJSON snapshot, n_classes_ only)",
                "xgboost": "2.x layout", "classes": ["0", "1", "2"]})

    # 3.1: count:poisson with a vector base_score "[2E0]": sums start at logf(2).
    yc = rs.poisson(np.exp(0.5 * np.nan_to_num(X[:, 0])))
    m = xgb.XGBRegressor(objective="count:poisson", **common).fit(X, yc)
    b = m.get_booster()
    model = json.loads(b.save_raw(raw_format="json"))
    model["version"] = [3, 1, 0]
    model["learner"]["learner_model_param"]["base_score"] = "[2E0]"
    n = len(model["learner"]["gradient_booster"]["model"]["trees"])
    model["learner"]["gradient_booster"]["model"]["iteration_indptr"] = list(range(0, n + 1))
    model["learner"]["gradient_booster"]["model"]["cats"] = {"enc": [], "feature_segments": [], "sorted_idx": []}
    handle = ubjson({"Config": json.loads(b.save_config()), "Model": model})
    mods = fake_modules()
    booster = instance(mods, "xgboost.core", "Booster", {"handle": bytearray(handle)})
    est = instance(mods, "xgboost.sklearn", "XGBRegressor", {
        "n_estimators": 5, "objective": "count:poisson", "_Booster": booster, "n_features_in_": 4})
    d = xgb.DMatrix(Xp, base_margin=np.full(len(Xp), libm.logf(2.0), dtype=np.float32), missing=np.nan)
    write_case("xgb3_regressor_poisson", "pkl", dumps_with(mods, est), Xp, None, b.predict(d),
               {"kind": "regressor", "note": "crafted: XGBoost 3.1 layout (UBJSON snapshot, vector base_score)",
                "xgboost": "3.1 layout"})

    hostile(mods, handle)


def hostile(mods, good_handle):
    """Inputs that must be refused with exit 3 (invalid data), never crash."""
    def booster_with(handle):
        booster = instance(mods, "xgboost.core", "Booster", {"handle": bytearray(handle)})
        return dumps_with(mods, instance(mods, "xgboost.sklearn", "XGBRegressor", {"_Booster": booster}))

    cases = {}
    good = booster_with(good_handle)
    cases["hostile_truncated"] = good[: len(good) // 2]
    # A global outside the allow-list: os.system called through REDUCE.
    cases["hostile_os_system"] = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
    # XGBoost's layout with the Booster's module renamed to one not allowed.
    assert good.count(b"\x8c\x0cxgboost.core") == 1
    cases["hostile_unknown_global"] = good.replace(b"\x8c\x0cxgboost.core", b"\x8c\x0cxgbooster.co")
    # CONFIG-offset whose model length runs past the buffer.
    cases["hostile_config_offset"] = booster_with(b"CONFIG-offset:" + struct.pack("<q", 1 << 40) + b"binf")
    # Legacy binary claiming 2^31-1 trees.
    lp = struct.pack("<fIiiiII", 0.5, 4, 0, 0, 0, 1, 2) + bytes(136 - 28)
    binf = b"binf" + lp + struct.pack("<Q", 15) + b"binary:logistic" + struct.pack("<Q", 6) + b"gbtree"
    gp = struct.pack("<ii", 0x7FFFFFFF, 1) + bytes(160 - 8)
    cases["hostile_legacy_trees"] = booster_with(b"CONFIG-offset:" + struct.pack("<q", len(binf + gp)) + binf + gp + b"{}")
    # UBJSON snapshot with a string length of 2^62.
    cases["hostile_ubjson_length"] = booster_with(b"{L" + struct.pack(">q", 5) + b"Model" + b"SL" +
                                                  struct.pack(">q", 1 << 62) + b"x}")
    # A pickle BINBYTES8 length beyond the file.
    cases["hostile_pickle_length"] = b"\x80\x04\x8e" + struct.pack("<Q", 1 << 60) + b"abc."
    for name, blob in cases.items():
        with open(os.path.join(OUT, name + ".pkl"), "wb") as f:
            f.write(blob)


def main():
    """Real pickles into OUT, crafted and hostile ones into OUT/crafted; with
    --real or --crafted (make check-fixtures), only those, into OUT."""
    global OUT
    warnings.simplefilter("ignore")
    which = sys.argv[2] if len(sys.argv) > 2 else None
    base = OUT
    if which in (None, "--real"):
        os.makedirs(base, exist_ok=True)
        real()
    if which in (None, "--crafted"):
        OUT = base if which else os.path.join(base, "crafted")
        os.makedirs(OUT, exist_ok=True)
        crafted()


if __name__ == "__main__":
    main()
