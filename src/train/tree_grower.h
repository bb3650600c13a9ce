// GrowTree: grows one decision tree on binned data, depth first, the way
// scikit-learn's DepthFirstTreeBuilder does, with histogram split finding.
//
// At each node: it becomes a leaf when depth == max_depth, when it holds
// fewer than min_samples_split (or 2 * min_samples_leaf) in-bag rows, or
// when it is pure. Otherwise features are drawn at random without
// replacement until max_features non-constant ones have been evaluated (a
// feature constant in the node does not count, as in scikit-learn). Random
// forests evaluate every bin cut of a feature; extra trees draw one
// threshold uniformly between the feature's smallest and largest value in
// the node and snap it to the nearest bin cut. A cut is valid when both
// sides keep min_samples_leaf in-bag rows. The best proxy (weighted impurity
// decrease) wins; ties keep the first found. Rows with a missing value are
// tried on both sides and the better is kept as default_left; when the node
// has none, default_left sends NaN to the side with more rows.
//
// Thread safety: GrowTree only reads `shared`; call it from many threads.
#pragma once

#include <cstdint>
#include <vector>

#include "model/forest.h"
#include "train/binning.h"
#include "train/train_params.h"

namespace fb::train {

// What every tree of one forest shares (read-only).
struct GrowShared {
  const BinnedData* binned = nullptr;  // rows 0..n-1 of the training subset
  std::vector<int32_t> y_class;        // per subset row (classification)
  std::vector<double> y_value;         // per subset row (regression)
  std::vector<double> class_weight;    // per class; all 1 unless balanced
  int32_t n_classes = 0;               // 0 for regression
  Criterion criterion = Criterion::kGini;
  int32_t max_features = 1;
  int32_t max_depth = 0;  // 0: none
  int64_t min_samples_leaf = 1;
  int64_t min_samples_split = 2;
  bool bootstrap = true;
  bool extra_trees = false;
  uint64_t seed = 0;
};

struct GrownTree {
  Tree tree;                        // leaf values: class fractions or the mean
  std::vector<double> importances;  // n_features impurity decreases, normalised to sum 1 (or all 0)
};

GrownTree GrowTree(const GrowShared& shared, int32_t tree_index);

}  // namespace fb::train
