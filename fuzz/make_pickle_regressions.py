#!/usr/bin/python3
"""Writes the pickle regression reproducers into fuzz/regressions/pickle/.
Run with Debian's interpreter: /usr/bin/python3 fuzz/make_pickle_regressions.py [OUT_DIR]

Each file reproduces a bug of the pickle importer that was fixed in commit
4832105 (found while writing its hostile-input tests; the fuzzer itself has
found nothing so far, see docs/sklearn-models.md). Before that commit each of
them made the importer build objects far larger than the file (memory
amplification) or accept an unbounded dtype; now each must be refused with the
message in expected-errors.tsv, which PickleFuzzRegression (import_test)
checks. Deterministic: the same bytes every run.
"""
import gzip
import os
import pickle
import sys

import numpy as np
from sklearn.ensemble import RandomForestRegressor

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "regressions", "pickle")
os.makedirs(OUT, exist_ok=True)
expected = []


def write(name, data, message):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected.append((name, message))


# 1. A 100,000-item list decoded once, then set(list) 5,000 times through the
# memo: before the copy budget each REDUCE copied the list (4-byte ids), about
# 2 GB in all from a 105 kB pickle. Gzip-compressed (joblib's gzip framing is plain gzip),
# so the file is small; the importer decompresses it first.
raw = b"\x80\x02]q\x00(" + b"N" * 100000 + b"e0"
raw += b"c__builtin__\nset\nh\x00\x85R0" * 5000
raw += b"N."
write("memo-set-amplification.pkl.gz", gzip.compress(raw, 9, mtime=0), "far larger than the file")

# 2. A random forest whose estimators_ are one tree repeated 2,000 times:
# pickle memoizes the shared tree, so the file holds its arrays once, but the
# importer expanded every copy (2,000 x the tree's arrays).
rng = np.random.RandomState(0)
X = rng.rand(400, 4)
rf = RandomForestRegressor(n_estimators=1, max_depth=8, random_state=0).fit(X, X[:, 0] + X[:, 1])
rf.estimators_ = rf.estimators_ * 2000
rf.n_estimators = len(rf.estimators_)
write("forest-shared-tree-p4.pkl", pickle.dumps(rf, protocol=4), "trees are shared")

# 3. A numpy structured dtype with 300 fields: the importer's dtype builder
# had no bound on fields (now 256).
dt = np.dtype([("f%d" % i, "<f8") for i in range(300)])
write("dtype-300-fields-p2.pkl", pickle.dumps(dt, protocol=2), "more than 256 fields")

with open(os.path.join(OUT, "expected-errors.tsv"), "w") as f:
    f.write("# reproducer\tthe error message must contain\n")
    for name, message in expected:
        f.write(f"{name}\t{message}\n")
