// TrainingData: features and target of a training set, with the input
// encoding that turns raw columns into those features.
//
// MakeTrainingData one-hot encodes categorical columns as pandas get_dummies
// does: numeric columns first, in file order, then for each categorical
// column (file order) one indicator "<column>_<category>" per category,
// categories sorted by byte value. The target column is excluded.
//
// Task: kAuto picks classification when the target has a non-numeric value,
// or when every target value is an integer and there are at most 20
// distinct values; regression otherwise. Class labels are the target's
// distinct texts as written (trimmed), sorted numerically when all are
// numbers, else by byte value; a missing target value is an error.
//
// Thread safety: plain value; read-only use from many threads is safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/forest.h"
#include "train/raw_table.h"

namespace fb::train {

enum class Task : uint8_t { kAuto, kClassification, kRegression };

struct TrainingData {
  int64_t n_rows = 0;
  int32_t n_features = 0;
  std::vector<float> x;  // feature-major: x[f * n_rows + r]; NaN = missing
  std::vector<std::string> feature_names;
  InputEncoding encoding;
  std::string target;

  ModelKind kind = ModelKind::kClassifier;
  std::vector<std::string> class_labels;  // classifier
  bool labels_are_integers = false;
  std::vector<int32_t> y_class;  // classifier: index into class_labels
  std::vector<double> y_value;   // regressor

  float at(int64_t row, int32_t feature) const { return x[static_cast<size_t>(feature) * n_rows + row]; }
  int32_t n_classes() const { return static_cast<int32_t>(class_labels.size()); }
};

// `table` must hold `target` (InvalidArgument otherwise) with its text codes
// (ReadCsvTable with text_columns = {target}).
Result<TrainingData> MakeTrainingData(const RawTable& table, const std::string& target, Task task);

// Reads `path` (ReadCsvTable) and makes its training data for `target`:
// InvalidArgument naming the file when it has no such column.
// `drop`: columns that are not features (ids, keys, timestamps): removed
// before encoding, so an id column never becomes thousands of one-hot
// features. Each must exist and must not be the target.
Result<TrainingData> LoadTrainingData(const std::string& path, const std::string& target, Task task,
                                      const std::vector<std::string>& drop = {});

// Rows `rows` of `data` as a row-major float matrix (for predictors).
std::vector<float> RowMajor(const TrainingData& data, const std::vector<int64_t>& rows);

}  // namespace fb::train

namespace fb::train {

// A held-out table encoded the way `forest` was trained (its InputEncoding:
// columns by name, unseen categories all-zero), with its target mapped to
// the forest's classes (InvalidData for a label the model does not know) or
// values. For `train --test`.
Result<TrainingData> EncodeLike(const RawTable& table, const Forest& forest, const std::string& target);

}  // namespace fb::train
