#!/usr/bin/python3
"""sk2xgb.py MODEL.joblib OUT.json: converts a fitted scikit-learn forest into
an XGBoost 1.7 JSON booster that computes the same numbers, so XGBoost's C++
predictor can be timed on exactly the same trees. The booster's margin
(inplace_predict(predict_type="margin"), base_score 0) is the forest's
output: P(class 1) for binary classifiers, one probability per class for
multiclass (one XGBoost tree per class per forest tree, tree_info = class:
XGBoost 1.7 has no vector leaves), the mean prediction for regressors.
scikit-learn goes left when x <= t (t float64, x float32); XGBoost when
x < c (float32), so c = the smallest float32 > t."""
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, joblib

def convert(model_path, out_path):
    m = joblib.load(model_path)
    rf = getattr(m, "best_estimator_", m)
    classifier = hasattr(rf, "classes_")
    n_classes = len(rf.classes_) if classifier else 1
    outs = list(range(n_classes)) if classifier and n_classes > 2 else [None]
    n_feat = rf.estimators_[0].tree_.n_features
    k = len(rf.estimators_)
    trees, info = [], []
    for est in rf.estimators_:
        t = est.tree_
        # XGBoost's predictor assumes right child == left child + 1: renumber breadth-first.
        order, q, head = [], [0], 0
        while head < len(q):
            j = q[head]; head += 1; order.append(j)
            if t.children_left[j] != -1:
                q += [t.children_left[j], t.children_right[j]]
        new_id = np.empty(t.node_count, dtype=np.int64)
        new_id[order] = np.arange(len(order))
        order = np.array(order)
        val = t.value[:, 0, :]
        if classifier:
            val = val / val.sum(axis=1, keepdims=True)
        leaf = t.children_left[order] == -1
        th = t.threshold[order]
        f = th.astype(np.float32)
        c = np.where(f.astype(np.float64) > th, f, np.nextafter(f, np.float32(np.inf)))
        left = np.where(leaf, -1, new_id[np.maximum(t.children_left[order], 0)])
        right = np.where(leaf, -1, new_id[np.maximum(t.children_right[order], 0)])
        parents = np.full(len(order), 2147483647, dtype=np.int64)
        parents[left[~leaf]] = np.arange(len(order))[~leaf]
        parents[right[~leaf]] = np.arange(len(order))[~leaf]
        idx = np.where(leaf, 0, t.feature[order])
        n = len(order)
        for o in outs:
            v = val[order, 1 if (classifier and o is None) else (o or 0)] / k
            cond = np.where(leaf, v, c.astype(np.float64))
            trees.append({
                "base_weights": [0.0] * n, "categories": [], "categories_nodes": [],
                "categories_segments": [], "categories_sizes": [],
                "default_left": [0] * n, "id": len(trees), "left_children": left.tolist(),
                "loss_changes": [0.0] * n, "parents": parents.tolist(),
                "right_children": right.tolist(), "split_conditions": cond.tolist(),
                "split_indices": idx.tolist(), "split_type": [0] * n,
                "sum_hessian": [1.0] * n,
                "tree_param": {"num_deleted": "0", "num_feature": str(n_feat),
                               "num_nodes": str(n), "size_leaf_vector": "0"}})
            info.append(0 if o is None else o)
    multi = len(outs) > 1
    model = {"learner": {"attributes": {}, "feature_names": [], "feature_types": [],
        "gradient_booster": {"model": {"gbtree_model_param": {"num_parallel_tree": "1",
            "num_trees": str(len(trees))}, "tree_info": info, "trees": trees}, "name": "gbtree"},
        "learner_model_param": {"base_score": "0", "boost_from_average": "0",
            "num_class": str(len(outs)) if multi else "0",
            "num_feature": str(n_feat), "num_target": "1"},
        "objective": {"name": "multi:softprob", "softmax_multiclass_param": {"num_class": str(len(outs))}}
            if multi else {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}}},
        "version": [1, 7, 4]}
    with open(out_path, "w") as fh:
        json.dump(model, fh)

if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
