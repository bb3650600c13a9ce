#!/usr/bin/python3
"""Makes a realistic XGBoost model on the seed data's 59 features, for `make bench`.

    /usr/bin/python3 bench/make_xgb_model.py [--csv examples/seed/test-data1-small.csv]
        [--out bench-data/xgb-seed-500x6.ubj] [--trees 500] [--depth 6]
        [--continuous ROWS.f32]

The seed CSV has no labels, so a fixed random "teacher" (a logistic model on
standardized features with a few pairwise interactions, seed 0) labels the
rows; XGBoost (binary:logistic, hist, eta 0.1, subsample 0.8) then learns
`--trees` trees of depth `--depth` from them, which gives full-depth trees
over many of the 59 features, much like a production model. The model is
saved as JSON or UBJSON according to --out's extension. Needs python3-xgboost
(Debian's /usr/bin/python3). Deterministic; about 35 s of CPU for
500 x depth 6.

--continuous ROWS.f32 trains on scikit-learn's make_classification instead
(20 continuous features, 100,000 training rows: few thresholds repeat, unlike
the seed's integer features) and writes 200,000 further rows to predict as
float32 (ROWS.f32, with ROWS.shape holding "ROWS FEATURES").
"""
import argparse
import os

import numpy as np
import xgboost as xgb


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=os.path.join(here, "..", "examples", "seed", "test-data1-small.csv"))
    ap.add_argument("--out", default="bench-data/xgb-seed-500x6.ubj")
    ap.add_argument("--trees", type=int, default=500)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--continuous", help="train on make_classification; write rows to predict here")
    args = ap.parse_args()

    if args.continuous:
        from sklearn.datasets import make_classification
        X, y = make_classification(n_samples=300000, n_features=20, n_informative=12, random_state=5)
        X = X.astype(np.float32)
        rows = np.ascontiguousarray(X[100000:])
        rows.tofile(args.continuous)
        with open(os.path.splitext(args.continuous)[0] + ".shape", "w") as f:
            f.write(f"{rows.shape[0]} {rows.shape[1]}\n")
        X, y = X[:100000], y[:100000].astype(np.float32)
    else:
        X, y = seed_rows(args.csv)
    train(X, y, args)


def seed_rows(csv):
    X = np.loadtxt(csv, delimiter=",", dtype=np.float32)
    rs = np.random.RandomState(0)
    Z = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-6)
    w = rs.normal(size=X.shape[1])
    pairs = rs.randint(0, X.shape[1], size=(8, 2))
    score = Z @ w / np.sqrt(X.shape[1]) + sum(Z[:, a] * Z[:, b] for a, b in pairs) / 4
    y = (rs.rand(len(X)) < 1 / (1 + np.exp(-2 * score))).astype(np.float32)
    return X, y


def train(X, y, args):
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": args.depth, "eta": 0.1,
              "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 1, "nthread": args.threads,
              "seed": 0}
    booster = xgb.train(params, xgb.DMatrix(X, y), args.trees)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    booster.save_model(args.out)
    nodes = sum(len(t.split("\n")) - 1 for t in booster.get_dump())
    print(f"wrote {args.out}: {args.trees} trees, depth {args.depth}, {nodes} nodes, "
          f"{os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
