// scikit-learn's boosted ensembles (and, later in this file, the other
// ensembles whose trees are not averaged) as Forests. Internal to
// model/import: sklearn_pickle.cc calls these after unwrapping.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "model/forest.h"
#include "model/import/sklearn_reader.h"

namespace fb::sklearn {

// GradientBoostingClassifier / GradientBoostingRegressor (0.22 and later).
// Raw score = init + sum over stages of learning_rate x leaf, accumulated in
// stage order from the init, as sklearn's predict_stages does: each leaf is
// stored pre-multiplied (learning_rate * value, the product predict_stages
// adds) and the init is the Forest's base margin, so the sums are
// bit-identical. The init is "zero" or the DummyClassifier (strategy prior
// or most_frequent) / DummyRegressor that scikit-learn fits; any other init
// estimator is refused (Unsupported, naming its class).
bool IsGradientBoosting(const std::string& cls);
Result<Forest> FromGradientBoosting(const Reader& r, ValueId est, uint64_t input_size);

// IsolationForest: each leaf holds its path length contribution, computed
// as scikit-learn's _compute_score_samples does per row:
//   (depth + 1) + c(n_node_samples) - 1.0,
// c(n) = 0 (n <= 1), 1 (n == 2), 2 (log(n - 1) + euler_gamma) - 2 (n - 1) / n;
// the trees' sum starts at 0 in tree order (bit-identical to scikit-learn's
// `depths`), then the kIsolation link (model/forest.h) with denominator
// len(estimators_) * c(max_samples_) and offset_. Trees trained on a feature
// subset (max_features < n_features) have their features mapped back
// through estimators_features_.
Result<Forest> FromIsolationForest(const Reader& r, ValueId est, uint64_t input_size);

}  // namespace fb::sklearn
