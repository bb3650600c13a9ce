#!/usr/bin/python3
"""dump_forest.py MODEL.joblib OUT.fbdump: writes a fitted scikit-learn forest
(RandomForest / ExtraTrees, classifier or regressor, optionally inside a
search CV) as the bench-only binary dump read by bench/forest_dump.cc, so the
kernel benchmark does not depend on the pickle importer. Little-endian:
  int32 magic 0x46424431 ('FBD1'), kind (0 classifier, 1 regressor),
        n_features, n_outputs, leaf_width, n_trees
  per tree: int32 n_nodes; int32 left[n], right[n], feature[n];
            float64 threshold[n]; float64 values[n * leaf_width]
Binary classifiers have one output, P(classes_[1]); others one per class,
normalised per node, as scikit-learn's predict_proba uses them."""
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, joblib

def main(src, dst):
    m = joblib.load(src)
    rf = getattr(m, "best_estimator_", m)
    classifier = hasattr(rf, "classes_")
    n_classes = len(rf.classes_) if classifier else 1
    n_out = 1 if (not classifier or n_classes == 2) else n_classes
    with open(dst, "wb") as f:
        w = lambda a, dt: f.write(np.ascontiguousarray(a, dtype=dt).tobytes())
        w([0x46424431, 0 if classifier else 1, rf.estimators_[0].tree_.n_features, n_out, n_out, len(rf.estimators_)], "<i4")
        for est in rf.estimators_:
            t = est.tree_
            v = t.value[:, 0, :]
            if classifier:
                v = v / v.sum(axis=1, keepdims=True)
                if n_classes == 2:
                    v = v[:, 1:2]
            w([t.node_count], "<i4")
            w(t.children_left, "<i4"); w(t.children_right, "<i4"); w(t.feature, "<i4")
            w(t.threshold, "<f8"); w(v.reshape(-1), "<f8")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
