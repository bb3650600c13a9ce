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

}  // namespace fb::sklearn
