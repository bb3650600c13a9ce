#!/usr/bin/python3
"""HistGradientBoosting models with a 1.4-style `_preprocessor`, built with
Debian's scikit-learn 1.2 for sklearn_hgb_test (real 1.4.2 models are in
sklearn14/hgb, fitted on numpy arrays only).

scikit-learn 1.4 keeps, whenever a feature is categorical,
    _preprocessor = ColumnTransformer([
        ("encoder", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=nan,
                                   encoded_missing_value=nan, dtype=float64), is_categorical_),
        ("numerical", FunctionTransformer(partial(check_array, dtype=[float64],
                                                  force_all_finite=False)), ~is_categorical_)])
fitted on X, and fits the trees on its output (categorical columns first)
with the categorical features at the front. This script does exactly that
with 1.2's classes: fits the same ColumnTransformer, fits a 1.2
HistGradientBoosting* on its output with categorical_features = the first
columns, and stores the ColumnTransformer as `_preprocessor` with the input's
feature_names_in_ / n_features_in_, as 1.4 does. The expected values are the
trees' predictions on `_preprocessor.transform(X)`, which is what 1.4's
predict computes.

    /usr/bin/python3 tests/sklearn/make_hgb_preprocessor_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/sklearn/fixtures/hgb/preprocessor. Cases:
  names     a DataFrame (a string category column with NaN, an integer-code
            column, two numbers): X.csv has a header, the columns shuffled
            and an extra column; classifier.
  pipeline  Pipeline([ColumnTransformer(SimpleImputer on the numbers,
            remainder passthrough), HGB with a _preprocessor fitted on
            that step's output]) on a numpy array: X.csv without header;
            regressor.
Each case: <case>.<ext>, <case>.X.csv (missing values empty),
<case>.expected.csv (label then predict_proba, or the value) and a line
in manifest.txt (case model_file kind n_classes header).
"""
import os
import pickle
import sys
import warnings
from functools import partial

os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder  # noqa: E402
from sklearn.utils.validation import check_array  # noqa: E402

from fixture_io import r  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures", "hgb",
                                                         "preprocessor")
os.makedirs(OUT, exist_ok=True)
warnings.filterwarnings("ignore")


def preprocessor(mask):
    """The ColumnTransformer 1.4's _preprocess_X builds (unfitted)."""
    return ColumnTransformer([
        ("encoder", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                   encoded_missing_value=np.nan, dtype=np.float64), mask),
        ("numerical", FunctionTransformer(partial(check_array, dtype=[np.float64], force_all_finite=False)),
         ~mask),
    ])


def with_preprocessor(cls, X, y, mask, seed, **params):
    ct = preprocessor(mask)
    Xt = ct.fit_transform(X)
    k = int(mask.sum())
    est = cls(categorical_features=list(range(k)), random_state=seed, **params).fit(Xt, y)
    est._preprocessor = ct
    est.n_features_in_ = ct.n_features_in_
    if hasattr(ct, "feature_names_in_"):
        est.feature_names_in_ = ct.feature_names_in_
    return est


def mixed(seed, n):
    rs = np.random.RandomState(seed)
    colors = np.array(["red", "green", "blue", "amber", "teal"], dtype=object)
    df = pd.DataFrame({
        "x0": rs.normal(size=n),
        "color": colors[rs.randint(0, 5, n)],
        "x1": rs.uniform(-3, 3, size=n),
        "code": rs.randint(0, 9, n).astype(float),
    })
    y = df["x0"] + df["color"].map({"red": 0, "green": 2, "blue": -1, "amber": 3, "teal": 0.5}) + 0.3 * df["code"]
    y = y + rs.normal(scale=0.3, size=n)
    for col, frac in (("color", 0.05), ("code", 0.05), ("x1", 0.05)):
        df.loc[rs.rand(n) < frac, col] = np.nan
    return df, y.to_numpy()


def probes(df):
    """Unknown categories (a new string, codes 9, 3.7, -1, 1e20), missing ones."""
    rows = df.iloc[:10].copy()
    rows["color"] = ["purple", np.nan, "red", "RED", "", "teal", "amber", "x", "blue", np.nan]
    rows["code"] = [9.0, 3.7, -1.0, 1e20, np.nan, -0.0, 8.0, 0.0, 255.0, 2.0]
    return rows


def write_csv(path, df, header, extra=None):
    cols = list(df.columns)
    if header:
        cols = cols[::-1]  # shuffled: the reader finds columns by name
    with open(path, "w") as f:
        if header:
            f.write(",".join(cols + ["ignored"]) + "\n")
        for i in range(len(df)):
            cells = []
            for c in cols:
                v = df[c].iloc[i]
                if isinstance(v, str):
                    cells.append(v)
                elif v is None or (isinstance(v, float) and np.isnan(v)):
                    cells.append("")
                else:
                    cells.append(r(v))
            if header:
                cells.append("zz")
            f.write(",".join(cells) + "\n")
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=True)[list(df.columns)] if header \
        else pd.read_csv(path, header=None, float_precision="round_trip").to_numpy()


def main():
    manifest = []
    # names: a DataFrame with a string category column.
    df, y = mixed(0, 1200)
    yc = (y > np.median(y)).astype(int)
    test, train, ytr = df.iloc[:60], df.iloc[60:], yc[60:]
    mask = np.array([c in ("color", "code") for c in df.columns])
    est = with_preprocessor(HistGradientBoostingClassifier, train, ytr, mask, 0, max_iter=20)
    X_test = pd.concat([test, probes(test)], ignore_index=True)
    X_read = write_csv(os.path.join(OUT, "names.X.csv"), X_test, header=True)
    # An empty string field is missing for pandas as for forestbatch.
    Xt = est._preprocessor.transform(X_read)
    with open(os.path.join(OUT, "names.expected.csv"), "w") as f:
        for lab, p in zip(est.predict(Xt), est.predict_proba(Xt)):
            f.write(",".join([str(lab)] + [r(v) for v in p]) + "\n")
    joblib.dump(est, os.path.join(OUT, "names.joblib"))
    manifest.append("names names.joblib classifier 2 header")

    # pipeline: an imputer step in front of an HGB with a _preprocessor, numpy input.
    X = df.assign(color=df["color"].map({"red": 0.0, "green": 1.0, "blue": 2.0, "amber": 3.0, "teal": 4.0}))
    X = X.to_numpy(dtype=float)
    prep = ColumnTransformer([("imp", SimpleImputer(strategy="median"), [0, 2])], remainder="passthrough")
    Xp = prep.fit_transform(X[60:])  # columns: x0, x1, color, code
    est = with_preprocessor(HistGradientBoostingRegressor, Xp, y[60:], np.array([False, False, True, True]), 1,
                            max_iter=30)
    pipe = Pipeline([("prep", prep), ("hgb", est)])
    X_test = np.vstack([X[:60], np.array([[0.3, 7.0, np.nan, 9.0], [np.nan, 2.5, -1.0, 3.7],
                                          [1.0, np.nan, 1.0, np.nan], [-0.5, -0.0, 0.5, 1e20]])])
    X_read = write_csv(os.path.join(OUT, "pipeline.X.csv"), pd.DataFrame(X_test), header=False)
    pred = est.predict(est._preprocessor.transform(prep.transform(X_read)))
    with open(os.path.join(OUT, "pipeline.expected.csv"), "w") as f:
        for v in pred:
            f.write(r(v) + "\n")
    with open(os.path.join(OUT, "pipeline.pkl"), "wb") as f:
        pickle.dump(pipe, f, protocol=4)
    manifest.append("pipeline pipeline.pkl regressor 0 no-header")

    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write(f"# generated by make_hgb_preprocessor_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
