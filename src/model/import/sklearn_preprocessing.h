// scikit-learn preprocessing steps (the transformers of a Pipeline in front
// of the final estimator) compiled into a Preprocessing program
// (common/preprocessing.h), as data: nothing of the pickle is executed.
//
// Supported: nested Pipelines, ColumnTransformer (columns by name, by index,
// slices and boolean masks; remainder drop / passthrough / a transformer),
// OneHotEncoder, OrdinalEncoder, SimpleImputer, StandardScaler,
// MinMaxScaler, MaxAbsScaler, RobustScaler, 'passthrough' / None / 'drop'.
// Anything else is kUnsupported naming the step and its class. Internal to
// model/import.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/preprocessing.h"
#include "common/status.h"
#include "model/import/sklearn_reader.h"

namespace fb::sklearn {

struct PipelineStep {
  std::string name;  // the step's path, e.g. "prep" or "outer > prep"
  ValueId transformer = kNoValue;
};

// The list of transformer names this compiler understands, for messages.
extern const char* const kSupportedTransformers;

// Compiles `steps` (in order; 'passthrough' and None already removed) into
// a program whose outputs feed an estimator of `n_features` features.
Result<std::shared_ptr<const Preprocessing>> CompilePreprocessing(const Reader& r,
                                                                  const std::vector<PipelineStep>& steps,
                                                                  int32_t n_features);

}  // namespace fb::sklearn
