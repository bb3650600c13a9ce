#!/usr/bin/python3
"""Writes the small seed corpus for pickle_fuzz into fuzz/corpus/pickle/.
Run with Debian's interpreter: /usr/bin/python3 fuzz/make_pickle_corpus.py [OUT_DIR]"""
import io
import os
import pickle
import sys

# HistGradientBoosting's _BinMapper records the OpenMP thread count: one
# thread makes the seeds the same bytes on every machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "pickle")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(0)
X = rng.rand(40, 3)
y = np.array(["a", "b"], dtype=object)[(X[:, 0] > 0.5).astype(int)]
clf = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
reg = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, X[:, 1])
for proto in (2, 3, 4, 5):
    with open(os.path.join(OUT, f"rf-strings-p{proto}.pkl"), "wb") as f:
        pickle.dump(clf, f, protocol=proto)
with open(os.path.join(OUT, "dt-reg-p2.pkl"), "wb") as f:
    pickle.dump(reg, f, protocol=2)
joblib.dump(clf, os.path.join(OUT, "rf-strings.joblib"))
joblib.dump(reg, os.path.join(OUT, "dt-reg.joblib"))
joblib.dump(reg, os.path.join(OUT, "dt-reg.joblib.z"), compress=("zlib", 3))
joblib.dump(reg, os.path.join(OUT, "dt-reg.joblib.lz4"), compress=("lz4", 3))
# Boosted and isolation ensembles, and the globals other models bring
# (slices, numpy type references, Cython loss objects).
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, IsolationForest)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

y3 = (X[:, 0] * 3).astype(int)
with open(os.path.join(OUT, "gbc-multiclass-p4.pkl"), "wb") as f:
    pickle.dump(GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y3), f, protocol=4)
with open(os.path.join(OUT, "gbc-exponential-p2.pkl"), "wb") as f:
    pickle.dump(GradientBoostingClassifier(loss="exponential", n_estimators=2, max_depth=1, random_state=0)
                .fit(X, y), f, protocol=2)
joblib.dump(GradientBoostingRegressor(loss="huber", n_estimators=2, max_depth=2, random_state=0).fit(X, X[:, 1]),
            os.path.join(OUT, "gbr-huber.joblib"))
joblib.dump(IsolationForest(n_estimators=2, max_samples=16, max_features=2, random_state=0).fit(X),
            os.path.join(OUT, "iforest.joblib"))
with open(os.path.join(OUT, "hgb-p4.pkl"), "wb") as f:
    pickle.dump(HistGradientBoostingClassifier(max_iter=2, max_leaf_nodes=4, random_state=0).fit(X, y), f, protocol=4)
# HistGradientBoosting with categorical splits (bitsets) and a loss whose
# Cython state holds a number (PinballLoss: the quantile).
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
# (a category needs 10 samples to be split on: 200 rows, 4 categories)
Xr = np.random.RandomState(1).rand(200, 2)
Xc = np.column_stack([Xr[:, 0], (Xr[:, 1] * 4).astype(int)])
with open(os.path.join(OUT, "hgb-categorical-quantile-p4.pkl"), "wb") as f:
    pickle.dump(HistGradientBoostingRegressor(loss="quantile", quantile=0.7, max_iter=2, max_leaf_nodes=4,
                                              categorical_features=[1], random_state=0).fit(Xc, Xc[:, 1] % 3),
                f, protocol=4)
# HistGradientBoosting with scikit-learn 1.4's _preprocessor (OrdinalEncoder
# on the categorical column, FunctionTransformer(partial(check_array)) on the
# rest, categorical first), built with this version's classes around trees
# fitted on its output, as 1.4 does (tests/sklearn/make_hgb_preprocessor_fixtures.py).
from functools import partial  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder  # noqa: E402
from sklearn.utils.validation import check_array  # noqa: E402
mask = np.array([False, True])
pre = ColumnTransformer([
    ("encoder", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                               encoded_missing_value=np.nan, dtype=np.float64), mask),
    ("numerical", FunctionTransformer(partial(check_array, dtype=[np.float64], force_all_finite=False)), ~mask)])
hgb_pre = HistGradientBoostingClassifier(max_iter=2, max_leaf_nodes=4, categorical_features=[0], random_state=0)
hgb_pre.fit(pre.fit_transform(Xc), (Xc[:, 1] % 2).astype(int))
hgb_pre._preprocessor = pre
with open(os.path.join(OUT, "hgb-preprocessor-p4.pkl"), "wb") as f:
    pickle.dump(hgb_pre, f, protocol=4)
with open(os.path.join(OUT, "column-transformer-p5.pkl"), "wb") as f:
    pickle.dump(ColumnTransformer([("oh", OneHotEncoder(), [0]), ("p", "passthrough", slice(1, 3))])
                .fit((X * 3).astype(int)), f, protocol=5)
# Small hostile or odd inputs.
with open(os.path.join(OUT, "os-system.pkl"), "wb") as f:
    f.write(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.")
with open(os.path.join(OUT, "nested-lists.pkl"), "wb") as f:
    f.write(b"\x80\x02" + b"(" * 50 + b"l" * 50 + b".")
with open(os.path.join(OUT, "memo.pkl"), "wb") as f:
    f.write(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94h\x00h\x00\x86\x94a.")
