#!/usr/bin/python3
"""Writes the training CSVs for the LightGBM benchmark models, for `make bench`.

    /usr/bin/python3 bench/make_lgbm_model.py DIR

DIR/lgbm-seed-train.csv: the seed data's 59 features labelled by make_xgb_model.py's fixed
random teacher (label first, no header), so that LightGBM learns full 31-leaf trees over many
features as the XGBoost bench model does. DIR/lgbm-cont-train.csv: 100,000 rows of
make_classification's 20 continuous features (random_state 5, as make_xgb_model.py), and
DIR/lgbm-cont.csv: the next 200,000 rows to predict (no label, no header), written from their
float32 values with 9 significant digits so that LightGBM's double parser and forestbatch's
float32 one read the same numbers. bench/run.sh trains the models with LightGBM's CLI.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_xgb_model import seed_rows  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    X, y = seed_rows(os.path.join(here, "..", "examples", "seed", "test-data1-small.csv"))
    np.savetxt(os.path.join(out, "lgbm-seed-train.csv"), np.column_stack([y, X]), delimiter=",", fmt="%.9g")
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=300000, n_features=20, n_informative=12, random_state=5)
    X = X.astype(np.float32)
    np.savetxt(os.path.join(out, "lgbm-cont-train.csv"), np.column_stack([y[:100000], X[:100000]]),
               delimiter=",", fmt="%.9g")
    np.savetxt(os.path.join(out, "lgbm-cont.csv"), X[100000:], delimiter=",", fmt="%.9g")
    print(f"wrote the LightGBM bench data to {out}")


if __name__ == "__main__":
    main()
