"""What the scikit-learn fixture generators share (make_boosting_fixtures.py,
make_hgb_fixtures.py, make_hgb_preprocessor_fixtures.py,
make_pipeline_fixtures.py): saving a model in one of the formats the
importer reads, and writing a number so that it reads back as the same
float64."""
import os
import pickle

import joblib


def save(model, base, fmt):
    """Saves `model` as base.joblib ("joblib"), base.joblib.gz ("joblib-gzip")
    or base.pkl ("pickleN": pickle protocol N); returns the file's name."""
    if fmt == "joblib":
        joblib.dump(model, base + ".joblib")
        return os.path.basename(base) + ".joblib"
    if fmt == "joblib-gzip":
        joblib.dump(model, base + ".joblib.gz", compress=("gzip", 3))
        return os.path.basename(base) + ".joblib.gz"
    with open(base + ".pkl", "wb") as f:
        pickle.dump(model, f, protocol=int(fmt[-1]))
    return os.path.basename(base) + ".pkl"


def r(v):
    """v as the shortest text that reads back as the same float64."""
    return repr(float(v))
