// Iteration (boosting round) ranges of boosted forests, as XGBoost's
// `iteration_range` and `best_iteration`.
//
// XGBoost's own defaults differ by API, and forestbatch follows the file:
//   - Booster.predict / inplace_predict use every tree, whatever
//     best_iteration says;
//   - the scikit-learn wrapper (XGBClassifier/XGBRegressor.predict) uses
//     rounds [0, best_iteration] when the model recorded one.
// A model saved by the scikit-learn wrapper (its file carries the wrapper's
// "scikit_learn" attribute) therefore predicts with its best iteration by
// default (Forest::predict_uses_best_iteration); any other model with all
// trees. `--iteration-range` overrides either.
//
// Pure functions on values; thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// Rounds [begin, end); end == 0 means "to the last round" (XGBoost's (0, 0)
// is every tree).
struct IterationRange {
  int32_t begin = 0;
  int32_t end = 0;
};

// Parses "BEGIN:END" (e.g. "0:100", "10:0"), or "best" for [0,
// best_iteration + 1), or "all" for (0, 0). `best` is returned as begin = -1.
Result<IterationRange> ParseIterationRange(std::string_view text);

// The forest restricted to rounds [begin, end): trees
// [begin * trees_per_iteration, end * trees_per_iteration). Needs a boosted
// model (trees_per_iteration > 0) unless the range is (0, 0). The result
// keeps best_iteration only if it is still inside, and no longer uses it by
// default (the range is explicit).
Result<Forest> SliceIterations(Forest forest, IterationRange range);

// What `predict` applies: the explicit range if given (begin == -1: the best
// iteration), else the model's default (see file comment).
Result<Forest> SelectIterations(Forest forest, const IterationRange* explicit_range);

}  // namespace fb
