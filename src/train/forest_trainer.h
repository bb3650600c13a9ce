// TrainForest: fits a random forest or extra-trees ensemble to TrainingData
// and returns it as a validated Forest (model/forest.h) that every predictor
// serves.
//
// The result: classifiers have one output per class, each leaf holding the
// normalised (class-weighted) class distribution of its in-bag rows, averaged
// over trees (Aggregate::kMean) -- scikit-learn's predict_proba; regressors
// one output, each leaf the weighted mean. The model carries the data's
// InputEncoding, feature names, class labels, the hyperparameters and the
// mean-decrease-in-impurity feature importances (TrainingInfo).
//
// Trees are grown in parallel (`threads`); each tree draws from its own
// random stream of `seed`, so the model is identical for a given seed
// whatever the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "model/forest.h"
#include "train/train_params.h"
#include "train/training_data.h"

namespace fb::train {

// Trains on rows `rows` of `data` (all rows when empty).
Result<Forest> TrainForest(const TrainingData& data, const TrainParams& params,
                           const std::vector<int64_t>& rows = {});

// The number of threads `threads` means (0: the CPUs this process may use).
int32_t EffectiveThreads(int32_t threads);

}  // namespace fb::train
