#!/usr/bin/python3
"""Generates the parity fixtures of scikit-learn's HistGradientBoosting*
for sklearn_hgb_test.

Run with Debian's interpreter (scikit-learn 1.2):
    /usr/bin/python3 tests/sklearn/make_hgb_fixtures.py [OUT_DIR]            real models
    /usr/bin/python3 tests/sklearn/make_hgb_fixtures.py --crafted [OUT_DIR]  other versions' layouts
OUT_DIR defaults to tests/sklearn/fixtures/hgb (crafted: .../hgb/crafted).
For every case it writes
  <case>.<ext>         the model (joblib or pickle)
  <case>.X.csv         input rows, no header, float values as Python repr
                       (nan, inf, -inf included)
  <case>.expected.csv  one line per row: classifiers the label then
                       predict_proba; regressors the predicted value
  <case>.raw.csv       the raw scores before the link (_raw_predict), one row per line
and one line per case in manifest.txt: case model_file kind n_classes.

Crafted cases take a real 1.2 model and rewrite what other versions store
differently, from their documented layouts: PREDICTOR_RECORD_DTYPE before
0.24 (`threshold`, no is_categorical / bitset_idx), 0.21 (no
missing_go_to_left), 1.4 and later (feature_idx as intp, `_preprocessor`);
the loss objects of 0.22 to 1.0 (sklearn.ensemble._hist_gradient_boosting.loss,
a number as _baseline_prediction for one output, (K, 1) for K) and of 1.3
(HalfGammaLoss). Their classes are stand-ins registered under the original
module names, so these pickles are compared as bytes by check_fixtures.
The hostile variants of the loss object (hostile/*.pkl) are crafted the same
way: a closs whose unpickle function is given another class, a state that is
not a tuple of numbers, a BUILD on the closs, a link that does not belong to
the loss.
"""
import os

# One thread: the fits are small, the machines running this are shared, and
# OpenMP's spinning threads only slow them down (results do not depend on it).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import copy  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402

from fixture_io import r, save  # noqa: E402

CRAFTED = "--crafted" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--crafted"]
OUT = ARGS[0] if ARGS else os.path.join(os.path.dirname(__file__), "fixtures", "hgb", *(["crafted"] if CRAFTED else []))
os.makedirs(OUT, exist_ok=True)


def data(kind, seed):
    rs = np.random.RandomState(seed)
    if kind == "binary":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif kind == "strings":
        X, y = datasets.load_wine(return_X_y=True)
        y = np.array(["barolo", "grignolino", "barbera"], dtype=object)[y]
    elif kind == "digits":
        X, y = datasets.load_digits(return_X_y=True)
    elif kind == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif kind == "counts":
        X, _ = datasets.load_diabetes(return_X_y=True)
        y = rs.poisson(np.exp(1.0 + 3.0 * X[:, 2] + 2.0 * X[:, 8]))
    elif kind == "mixed":
        # Two numeric columns, two categorical columns (integer codes 0..k-1).
        n = 1500
        X = np.column_stack([rs.normal(size=n), rs.randint(0, 7, n).astype(float),
                             rs.uniform(-3, 3, size=n), rs.randint(0, 12, n).astype(float)])
        y = X[:, 0] + np.array([0, 2, -1, 3, 0.5, -2, 1])[X[:, 1].astype(int)] + 0.3 * X[:, 3]
        y += rs.normal(scale=0.3, size=n)
    else:
        raise ValueError(kind)
    perm = rs.permutation(len(X))
    return X[perm].astype(float), y[perm]


def with_nan(X, seed, frac=0.05):
    X = X.copy()
    mask = np.random.RandomState(seed).rand(*X.shape) < frac
    X[mask] = np.nan
    return X


def edge_rows(model, X_test):
    """Rows on, just below and just above the float64 thresholds of a few
    trees, and on the float32 values next to them: where a float32 cast of X
    or of the thresholds would change a decision."""
    rows = []
    for it, preds in enumerate(model._predictors[:3]):
        nodes = preds[0].nodes
        for i in np.where((nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0))[0][:4]:
            f, thr = nodes["feature_idx"][i], nodes["num_threshold"][i]
            if not np.isfinite(thr):
                continue
            f32 = np.float32(thr)
            for v in (thr, np.nextafter(thr, -np.inf), np.nextafter(thr, np.inf), float(f32),
                      float(np.nextafter(f32, np.float32(-np.inf))), float(np.nextafter(f32, np.float32(np.inf)))):
                r = X_test[(it * 4 + i) % len(X_test)].copy()
                r[f] = float(v)
                rows.append(r)
    return np.array(rows).reshape(-1, X_test.shape[1])


def write_case(manifest, name, model, model_file, X_test, raw=None, proba_fn=None, pred=None):
    is_clf = hasattr(model, "classes_")
    with open(os.path.join(OUT, name + ".X.csv"), "w") as f:
        for row in X_test:
            f.write(",".join(r(v) for v in row) + "\n")
    if raw is None:
        raw = model._raw_predict(X_test)
    raw = raw.reshape(len(X_test), -1)
    with open(os.path.join(OUT, name + ".raw.csv"), "w") as f:
        for row in raw:
            f.write(",".join(r(v) for v in row) + "\n")
    with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
        if is_clf:
            proba = model.predict_proba(X_test) if proba_fn is None else proba_fn(raw)
            labels = model.predict(X_test) if pred is None else pred
            for lab, p in zip(labels, proba):
                f.write(",".join([str(lab)] + [r(v) for v in p]) + "\n")
        else:
            for v in (model.predict(X_test) if pred is None else pred):
                f.write(r(v) + "\n")
    kind_s = "classifier" if is_clf else "regressor"
    manifest.append(f"{name} {model_file} {kind_s} {len(model.classes_) if is_clf else 0}")


CAT_PROBES = [0.0, -0.0, 3.0, 3.7, 6.0, 7.0, 11.0, 12.0, 255.0, 256.0, 259.0, 259.9, 2.0 ** 31 - 253, 2.0 ** 31 + 3,
              1e20, np.inf, -0.5, -3.0, -np.inf, np.nan]

CASES = [
    # name, class, data, params, nan in train/test, format
    ("hgb-binary-nan", HistGradientBoostingClassifier, "binary",
     dict(max_iter=40, learning_rate=0.2, max_leaf_nodes=31), True, "joblib"),
    ("hgb-binary-early-stop", HistGradientBoostingClassifier, "binary",
     dict(max_iter=500, early_stopping=True, n_iter_no_change=3, validation_fraction=0.2, tol=1e-3), False, "pickle4"),
    ("hgb-multiclass-strings", HistGradientBoostingClassifier, "strings",
     dict(max_iter=25, learning_rate=0.3, max_leaf_nodes=15), True, "joblib-gzip"),
    ("hgb-multiclass-digits", HistGradientBoostingClassifier, "digits",
     dict(max_iter=8, max_leaf_nodes=31), False, "pickle5"),
    ("hgb-reg-squared-error-nan", HistGradientBoostingRegressor, "diabetes",
     dict(max_iter=50, learning_rate=0.1), True, "joblib"),
    ("hgb-reg-absolute-error", HistGradientBoostingRegressor, "diabetes",
     dict(loss="absolute_error", max_iter=30), False, "pickle4"),
    ("hgb-reg-poisson", HistGradientBoostingRegressor, "counts",
     dict(loss="poisson", max_iter=30), True, "joblib"),
    ("hgb-reg-quantile", HistGradientBoostingRegressor, "diabetes",
     dict(loss="quantile", quantile=0.8, max_iter=30), False, "pickle3"),
    ("hgb-reg-early-stop", HistGradientBoostingRegressor, "diabetes",
     dict(max_iter=400, early_stopping=True, n_iter_no_change=2, validation_fraction=0.2, learning_rate=0.5),
     False, "pickle2"),
    ("hgb-reg-categorical-nan", HistGradientBoostingRegressor, "mixed",
     dict(max_iter=40, categorical_features=[1, 3]), True, "joblib"),
    ("hgb-clf-categorical", HistGradientBoostingClassifier, "mixed",
     dict(max_iter=20, categorical_features=[False, True, False, True]), True, "pickle4"),
    ("hgb-multiclass-categorical", HistGradientBoostingClassifier, "mixed",
     dict(max_iter=10, categorical_features=[1, 3]), False, "joblib"),
]


def fit_case(n, name, cls, kind, params, nan):
    X, y = data(kind, n)
    if "clf-categorical" in name:
        y = (y > np.median(y)).astype(int)
    if name == "hgb-multiclass-categorical":
        y = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))
    if nan:
        X = with_nan(X, n)
    X_test, X_train, y_train = X[:60], X[60:], y[60:]
    model = cls(random_state=n, **params).fit(X_train, y_train)
    if params.get("early_stopping"):
        assert model.n_iter_ < params["max_iter"], name
    X_test = np.vstack([X_test, edge_rows(model, X_test)])
    if "categorical" in name:
        probes = []
        for j, v in enumerate(CAT_PROBES):
            row = X_test[j % len(X_test)].copy()
            row[1] = v
            row[3] = CAT_PROBES[(j + 7) % len(CAT_PROBES)]
            probes.append(row)
        X_test = np.vstack([X_test, probes])
    if kind in ("diabetes", "mixed", "binary"):
        inf_rows = X_test[:4].copy()
        inf_rows[0, 0], inf_rows[1, 0], inf_rows[2, 2], inf_rows[3, 2] = np.inf, -np.inf, np.inf, 1e300
        X_test = np.vstack([X_test, inf_rows])
    return model, X_test


def real_fixtures():
    manifest = []
    for n, (name, cls, kind, params, nan, fmt) in enumerate(CASES):
        model, X_test = fit_case(n, name, cls, kind, params, nan)
        model_file = save(model, os.path.join(OUT, name), fmt)
        write_case(manifest, name, model, model_file, X_test)
    # HalfGammaLoss (HistGradientBoostingRegressor(loss="gamma") from 1.3) on
    # a 1.2 model: the loss object is what predict uses.
    from sklearn._loss.loss import HalfGammaLoss
    model, X_test = fit_case(50, "hgb-reg-gamma", HistGradientBoostingRegressor, "counts",
                             dict(loss="poisson", max_iter=20), False)
    model._loss = HalfGammaLoss()
    model.loss = "gamma"
    write_case(manifest, "hgb-reg-gamma", model, save(model, os.path.join(OUT, "hgb-reg-gamma"), "pickle4"), X_test)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write(f"# generated by make_hgb_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        f.write("\n".join(manifest) + "\n")


# ---- crafted layouts ----

def stand_in(module, name, base=object):
    """A class pickled as module.name (registered in sys.modules)."""
    mod = sys.modules.get(module)
    if mod is None:
        mod = types.ModuleType(module)
        sys.modules[module] = mod
    cls = getattr(mod, name, None)
    if cls is None:
        cls = type(name, (base,), {"__module__": module, "__qualname__": name})
        setattr(mod, name, cls)
    return cls


OLD_DTYPE = [("value", "<f8"), ("count", "<u4"), ("feature_idx", "<u4"), ("threshold", "<f8"),
             ("missing_go_to_left", "u1"), ("left", "<u4"), ("right", "<u4"), ("gain", "<f8"),
             ("depth", "<u4"), ("is_leaf", "u1"), ("bin_threshold", "u1")]
NEW_DTYPE = [("value", "<f8"), ("count", "<u4"), ("feature_idx", "<i8"), ("num_threshold", "<f8"),
             ("missing_go_to_left", "u1"), ("left", "<u4"), ("right", "<u4"), ("gain", "<f8"),
             ("depth", "<u4"), ("is_leaf", "u1"), ("bin_threshold", "u1"), ("is_categorical", "u1"),
             ("bitset_idx", "<u4")]


def relayout(nodes, dtype):
    out = np.zeros(len(nodes), dtype=dtype)
    for name in out.dtype.names:
        src = "num_threshold" if name == "threshold" else name
        out[name] = nodes[src]
    return out


def crafted_model(model, version, dtype, old_loss=None, drop_missing=False, preprocessor=False):
    """A copy of `model` as `version` would have stored it."""
    m = copy.deepcopy(model)
    TreePredictor = stand_in("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor")
    predictors = []
    for it in m._predictors:
        row = []
        for p in it:
            q = TreePredictor()
            nodes = relayout(p.nodes, [f for f in dtype if not (drop_missing and f[0] == "missing_go_to_left")])
            q.__dict__["nodes"] = nodes
            if "is_categorical" in nodes.dtype.names:
                q.__dict__["binned_left_cat_bitsets"] = p.binned_left_cat_bitsets
                q.__dict__["raw_left_cat_bitsets"] = p.raw_left_cat_bitsets
            row.append(q)
        predictors.append(row)
    state = dict(m.__dict__)
    state["_predictors"] = predictors
    state["_sklearn_version"] = version
    if old_loss is not None:
        loss_cls = stand_in("sklearn.ensemble._hist_gradient_boosting.loss", old_loss)
        loss = loss_cls()
        loss.__dict__["hessians_are_constant"] = old_loss == "LeastSquares"
        del state["_loss"]
        state["loss_"] = loss
        k = m.n_trees_per_iteration_
        state["_baseline_prediction"] = (np.float64(m._baseline_prediction.ravel()[0]) if k == 1
                                         else m._baseline_prediction.reshape(k, 1).copy())
        state["n_features_"] = state.pop("n_features_in_")
        state.pop("is_categorical_", None)
        bm = copy.deepcopy(m._bin_mapper)
        del bm.__dict__["is_categorical_"]  # 0.24 added it
        state["_bin_mapper"] = bm
    if preprocessor:
        state["_preprocessor"] = None
    est_cls = stand_in("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", type(model).__name__)
    out = est_cls()
    out.__dict__.update(state)
    return out


def crafted_fixtures():
    manifest = []
    saved = dict(sys.modules)
    # The stand-ins replace the real modules' names while pickling only.
    for mod in ["sklearn.ensemble._hist_gradient_boosting.predictor",
                "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"]:
        sys.modules.pop(mod, None)
    specs = [
        # name, real case, version, dtype, old loss, drop missing_go_to_left, _preprocessor
        ("v0.23-binary", 0, "0.23.2", OLD_DTYPE, "BinaryCrossEntropy", False, False),
        ("v0.23-multiclass", 2, "0.23.2", OLD_DTYPE, "CategoricalCrossEntropy", False, False),
        ("v0.23-regressor", 4, "0.23.2", OLD_DTYPE, "LeastSquares", False, False),
        ("v0.23-poisson", 6, "0.23.2", OLD_DTYPE, "Poisson", False, False),
        ("v0.21-no-missing", 5, "0.21.3", OLD_DTYPE, "LeastAbsoluteDeviation", True, False),
        ("v1.4-categorical", 9, "1.4.2", NEW_DTYPE, None, False, True),
        ("v1.4-multiclass", 3, "1.4.2", NEW_DTYPE, None, False, True),
    ]
    real = {}
    for name, case, version, dtype, old_loss, drop, pre in specs:
        n = case
        cname, cls, kind, params, nan, fmt = CASES[n]
        sys.modules.update({k: v for k, v in saved.items() if k not in sys.modules})
        for mod in ["sklearn.ensemble._hist_gradient_boosting.predictor",
                    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"]:
            sys.modules[mod] = saved[mod]
        if n not in real:
            real[n] = fit_case(n, cname, cls, kind, params, nan)
        model, X_test = real[n]
        raw = model._raw_predict(X_test).reshape(len(X_test), -1)
        if drop:
            X_test = X_test[~np.isnan(X_test).any(axis=1)]
            raw = model._raw_predict(X_test).reshape(len(X_test), -1)
        proba_fn = None
        if old_loss == "CategoricalCrossEntropy":
            # 0.22-1.0: np.exp(raw - logsumexp(raw, axis=0)) on (K, n); predict: argmax proba.
            proba_fn = lambda raw_: np.exp(raw_ - logsumexp(raw_, axis=1)[:, None])  # noqa: E731
        pred = None
        if proba_fn is not None:
            pred = model.classes_[np.argmax(proba_fn(raw), axis=1)]
        elif old_loss == "Poisson":
            pred = np.exp(raw.ravel())
        for mod in ["sklearn.ensemble._hist_gradient_boosting.predictor",
                    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"]:
            sys.modules.pop(mod, None)
        c = crafted_model(model, version, dtype, old_loss, drop, pre)
        with open(os.path.join(OUT, name + ".pkl"), "wb") as f:
            pickle.dump(c, f, protocol=4)
        write_case(manifest, name, model, name + ".pkl", X_test, raw=raw, proba_fn=proba_fn, pred=pred)
    sys.modules.update(saved)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write(f"# generated by make_hgb_fixtures.py --crafted with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        f.write("\n".join(manifest) + "\n")
    hostile_fixtures()


def hostile_fixtures():
    """Loss objects that are not what scikit-learn writes: refused as broken
    or hostile (exit 3), never run."""
    d = os.path.join(OUT, "hostile")
    os.makedirs(d, exist_ok=True)
    import sklearn._loss._loss as cyloss
    X, y = data("binary", 0)
    model = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X[:200], y[:200])

    class Reduced:
        def __init__(self, fn, args, state=None):
            self.fn, self.args, self.state = fn, args, state

        def __reduce__(self):
            return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)

    fn = cyloss.__pyx_unpickle_CyHalfBinomialLoss
    variants = {
        "closs-other-class": Reduced(fn, (cyloss.CyHalfMultinomialLoss, 222419149, ())),
        "closs-state-object": Reduced(fn, (cyloss.CyHalfBinomialLoss, 222419149, ("x",))),
        "closs-build-state": Reduced(fn, (cyloss.CyHalfBinomialLoss, 222419149, ()), {"a": 1}),
        "closs-wrong-function": Reduced(cyloss.__pyx_unpickle_CyPinballLoss, (cyloss.CyPinballLoss, 1, (0.5,))),
    }
    for name, closs in variants.items():
        m = copy.deepcopy(model)
        m._loss.__dict__["closs"] = closs
        with open(os.path.join(d, name + ".pkl"), "wb") as f:
            pickle.dump(m, f, protocol=4)
    from sklearn._loss.link import IdentityLink
    m = copy.deepcopy(model)
    m._loss.link = IdentityLink()
    with open(os.path.join(d, "link-mismatch.pkl"), "wb") as f:
        pickle.dump(m, f, protocol=4)
    m = copy.deepcopy(model)
    m._predictors[0][0].nodes["left"][0] = 10 ** 6
    with open(os.path.join(d, "child-out-of-range.pkl"), "wb") as f:
        pickle.dump(m, f, protocol=4)


if __name__ == "__main__":
    if CRAFTED:
        crafted_fixtures()
    else:
        real_fixtures()
