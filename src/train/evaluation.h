// Model evaluation for `train --cv` and `tune`: folds, held-out metrics and
// cross-validation.
//
// Metrics follow scikit-learn: roc_auc_score (binary: P(second class);
// multi-class: one-vs-rest, macro average; tied scores get average ranks),
// accuracy_score, log_loss (probabilities clipped to [1e-15, 1 - 1e-15]),
// RMSE = sqrt(mean_squared_error) and r2_score.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/forest.h"
#include "train/train_params.h"
#include "train/training_data.h"

namespace fb::train {

struct Metrics {
  int64_t n_test = 0;
  // Classification.
  double roc_auc = 0, accuracy = 0, log_loss = 0;
  // Regression.
  double rmse = 0, r2 = 0;
};

// K test folds (each a sorted list of rows) that partition all rows:
// stratified by class for classification (each class's rows shuffled with
// `seed`, then dealt round-robin), shuffled and cut evenly for regression.
// k must be in [2, n_rows].
Result<std::vector<std::vector<int64_t>>> MakeFolds(const TrainingData& data, int32_t k, uint64_t seed);

// All rows not in `test`.
std::vector<int64_t> Complement(int64_t n_rows, const std::vector<int64_t>& test);

// Metrics of `forest` (trained on `data`'s encoding) on rows `test`,
// predicted on `threads` threads (0: all); the metrics do not depend on it.
Metrics Evaluate(const Forest& forest, const TrainingData& data, const std::vector<int64_t>& test,
                 int32_t threads = 1);

// The metrics from scores: `prob` is n x n_classes, `y` class indexes.
double RocAuc(const std::vector<double>& prob, int32_t n_classes, const std::vector<int32_t>& y);

// Trains on each fold's complement and evaluates on the fold.
Result<std::vector<Metrics>> CrossValidate(const TrainingData& data, const TrainParams& params, int32_t k);

// The mean of each metric over folds.
Metrics MeanMetrics(const std::vector<Metrics>& folds);

}  // namespace fb::train
