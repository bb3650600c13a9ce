// ForestBuilder: the one door through which every importer makes a Forest.
//
// Importers fill a Forest (or build trees node by node) and call Build(),
// which validates everything a predictor relies on, so predictors never check
// again: child indexes in range and acyclic (each node reached once from the
// root), features < n_features, thresholds not NaN, value arrays of the right
// size, outputs in range, category ranges inside Forest::categories, labels
// matching outputs, the input encoding (if any) covering every feature once,
// feature importances (if any) one per feature. A failed check is InvalidData
// naming the tree and node.
#pragma once

#include <memory>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// Categories are integers below this (2^24, XGBoost's limit).
inline constexpr int32_t kMaxCategory = 1 << 24;

// Validates `forest` and returns it, or InvalidData saying what is wrong.
Result<Forest> BuildForest(Forest forest);

// A forest with undecoded trees (forest.h, UndecodedTrees): decodes every
// tree's nodes and values and validates them as BuildForest does (an error
// names the model file); the stored layout stays. Any other forest: as is.
Result<Forest> DecodeTrees(Forest forest);
// The same for a shared forest: `forest` itself when its trees are decoded,
// else a decoded copy.
Result<std::shared_ptr<const Forest>> DecodedForest(std::shared_ptr<const Forest> forest);

// For the entry points that cannot return an error (CompileForest,
// MakeReferencePredictor): DecodedForest, and when the trees do not decode
// (a file whose nodes do not hold), the error on stderr and abort(): a
// program error, since whatever loads with ModelLoad::kTreesOnDemand hands
// the forest on through MakeModelPredictor or DecodedForest, which report it.
std::shared_ptr<const Forest> DecodedForestOrAbort(std::shared_ptr<const Forest> forest);

// Checks one tree against the forest's shape (used by BuildForest).
Status ValidateTree(const Forest& forest, const Tree& tree, size_t tree_index);

// Checks Forest::float64_features (used by BuildForest): none or one per
// feature, cuts ascending and distinct, known categories in [0, 256).
Status ValidateFloat64Features(const Forest& forest);

// Checks Forest::encoding (used by BuildForest): columns named uniquely,
// categories unique, and every feature filled by exactly one column.
Status ValidateEncoding(const Forest& forest);

// The largest float32 that is <= v (v finite). Converts scikit-learn's float64
// thresholds so that for every float32 x: (double)x <= v  <=>  x <= result.
float Float32AtOrBelow(double v);

// Depth statistics of a tree: the root alone has depth 0.
struct TreeShape {
  int32_t depth = 0;
  int32_t n_leaves = 0;
};
TreeShape ShapeOf(const Tree& tree);

}  // namespace fb
