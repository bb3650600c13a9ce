// TrainParams: the hyperparameters of a random forest / extra trees, with
// scikit-learn's names, meanings and defaults (RandomForestClassifier,
// RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor, 1.2).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "model/forest.h"

namespace fb::train {

struct MaxFeatures {
  enum class Kind : uint8_t { kDefault, kAll, kSqrt, kLog2, kCount, kFraction };
  Kind kind = Kind::kDefault;  // default: sqrt for classifiers, all (1.0) for regressors
  double value = 0;            // kCount: the count; kFraction: in (0, 1]
};

enum class Criterion : uint8_t { kDefault, kGini, kEntropy, kSquaredError };

struct TrainParams {
  int32_t n_estimators = 100;
  int32_t max_depth = 0;  // 0: grow until leaves are pure or too small
  MaxFeatures max_features;
  int64_t min_samples_leaf = 1;               // in-bag rows a leaf must keep (unweighted, as scikit-learn)
  int64_t min_samples_split = 2;              // in-bag rows a node needs to be split
  Criterion criterion = Criterion::kDefault;  // gini for classifiers, squared_error for regressors
  int bootstrap = -1;                         // -1: default (forests true, extra trees false)
  bool class_weight_balanced = false;         // n / (n_classes * count(class)), from the training rows
  uint64_t seed = 0;
  int32_t threads = 0;  // 0: hardware concurrency
  bool extra_trees = false;
  int32_t max_bins = 255;  // histogram bins per feature (2..255), plus one for missing values
};

// Sets one hyperparameter from text, by scikit-learn's name or the CLI's:
// n_estimators|trees, max_depth (int or "none"), max_features (int, float in
// (0,1], sqrt, log2, none|all), min_samples_leaf, min_samples_split,
// criterion, bootstrap (true/false), class_weight (balanced|none), seed|
// random_state, extra_trees, max_bins. InvalidArgument for unknown names or
// bad values.
Status SetParam(TrainParams* p, const std::string& name, const std::string& value);

// Checks ranges and the criterion against the task.
Status ValidateParams(const TrainParams& p, ModelKind kind);

// max_features resolved for n_features: as scikit-learn, at least 1.
int32_t ResolveMaxFeatures(const MaxFeatures& m, ModelKind kind, int32_t n_features);
Criterion ResolveCriterion(Criterion c, ModelKind kind);
bool ResolveBootstrap(const TrainParams& p);

// The effective hyperparameters as scikit-learn-style name/value text.
std::vector<std::pair<std::string, std::string>> ParamsAsText(const TrainParams& p, ModelKind kind);

const char* CriterionName(Criterion c);

}  // namespace fb::train
