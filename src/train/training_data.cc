#include "train/training_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/input_encoding.h"

namespace fb::train {

Result<TrainingData> MakeTrainingData(const RawTable& table, const std::string& target, Task task) {
  int ti = table.FindColumn(target);
  if (ti < 0) return InvalidArgument("no column named '" + target + "' (the --target)");
  const RawColumn& tc = table.columns[ti];
  if (tc.codes.size() != static_cast<size_t>(table.n_rows))
    return Internal("target column read without its text (ReadCsvTable text_columns)");
  for (int64_t r = 0; r < table.n_rows; ++r) {
    if (tc.codes[r] < 0)
      return InvalidData(fmt::format("target '{}' is missing in data row {}", target, r + 1));
  }
  TrainingData d;
  d.n_rows = table.n_rows;
  d.target = target;
  bool all_integer = tc.numeric;
  if (tc.numeric) {
    for (int64_t r = 0; r < table.n_rows && all_integer; ++r) {
      float v = tc.values[r];
      all_integer = std::isfinite(v) && v == std::floor(v);
    }
  }
  if (task == Task::kAuto) {
    task = (!tc.numeric || (all_integer && tc.categories.size() <= 20)) ? Task::kClassification
                                                                        : Task::kRegression;
  }
  if (task == Task::kRegression) {
    if (!tc.numeric)
      return InvalidData("target '" + target + "' has non-numeric values: it cannot be a regression target");
    d.kind = ModelKind::kRegressor;
    d.y_value.resize(d.n_rows);
    for (int64_t r = 0; r < d.n_rows; ++r) {
      if (!std::isfinite(tc.values[r]))
        return InvalidData(fmt::format("target '{}' is not finite in data row {}", target, r + 1));
      d.y_value[r] = tc.values[r];
    }
  } else {
    d.kind = ModelKind::kClassifier;
    // Order the labels: numerically when they are all numbers.
    std::vector<int32_t> order(tc.categories.size());
    std::iota(order.begin(), order.end(), 0);
    if (tc.numeric) {
      std::vector<double> num(tc.categories.size());
      for (size_t k = 0; k < num.size(); ++k) {
        float v = 0;
        ParseNumber(tc.categories[k], &v);
        num[k] = v;
      }
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return num[a] < num[b]; });
    }
    std::vector<int32_t> rank(order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      rank[order[k]] = static_cast<int32_t>(k);
      d.class_labels.push_back(tc.categories[order[k]]);
    }
    if (d.class_labels.size() < 2)
      return InvalidData(
          fmt::format("target '{}' has only {} class: nothing to learn", target, d.class_labels.size()));
    d.labels_are_integers = all_integer;
    d.y_class.resize(d.n_rows);
    for (int64_t r = 0; r < d.n_rows; ++r) d.y_class[r] = rank[tc.codes[r]];
  }

  // Features: numeric columns first, then indicators (get_dummies order).
  int32_t nf = 0;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const RawColumn& col = table.columns[c];
    if (static_cast<int>(c) == ti || !col.numeric) continue;
    d.encoding.columns.push_back({col.name, nf++, {}});
    d.feature_names.push_back(col.name);
  }
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const RawColumn& col = table.columns[c];
    if (static_cast<int>(c) == ti || col.numeric) continue;
    if (col.categories.empty()) {
      // Every value missing: an all-zero indicator block would have width 0;
      // keep it as a numeric column of NaN instead.
      d.encoding.columns.push_back({col.name, nf++, {}});
      d.feature_names.push_back(col.name);
      continue;
    }
    d.encoding.columns.push_back({col.name, nf, col.categories});
    for (const std::string& cat : col.categories) d.feature_names.push_back(col.name + "_" + cat);
    nf += static_cast<int32_t>(col.categories.size());
  }
  if (nf == 0) return InvalidData("no feature columns besides the target");
  d.n_features = nf;
  d.x.assign(static_cast<size_t>(nf) * d.n_rows, 0.0f);
  for (const InputColumn& ic : d.encoding.columns) {
    const RawColumn& col = table.columns[table.FindColumn(ic.name)];
    float* dst = d.x.data() + static_cast<size_t>(ic.first_feature) * d.n_rows;
    if (!ic.categorical()) {
      if (col.numeric) {
        std::copy(col.values.begin(), col.values.end(), dst);
      } else {
        std::fill(dst, dst + d.n_rows, std::nanf(""));
      }
      continue;
    }
    for (int64_t r = 0; r < d.n_rows; ++r) {
      int32_t code = col.codes[r];
      if (code >= 0) dst[static_cast<size_t>(code) * d.n_rows + r] = 1.0f;
    }
  }
  return d;
}

Result<TrainingData> LoadTrainingData(const std::string& path, const std::string& target, Task task,
                                      const std::vector<std::string>& drop) {
  FB_ASSIGN_OR_RETURN(RawTable table, ReadTable(path, {target}));
  if (table.FindColumn(target) < 0)
    return InvalidArgument(fmt::format("{} has no column '{}' (--target)", path, target));
  for (const std::string& name : drop) {
    if (name == target) return InvalidArgument(fmt::format("--drop '{}': that is the --target", name));
    const int c = table.FindColumn(name);
    if (c < 0) return InvalidArgument(fmt::format("--drop '{}': {} has no such column", name, path));
    table.columns.erase(table.columns.begin() + c);
  }
  return MakeTrainingData(table, target, task);
}

std::vector<float> RowMajor(const TrainingData& d, const std::vector<int64_t>& rows) {
  std::vector<float> out(rows.size() * static_cast<size_t>(d.n_features));
  for (int32_t f = 0; f < d.n_features; ++f) {
    const float* col = d.x.data() + static_cast<size_t>(f) * d.n_rows;
    for (size_t i = 0; i < rows.size(); ++i) out[i * d.n_features + f] = col[rows[i]];
  }
  return out;
}

}  // namespace fb::train

namespace fb::train {

Result<TrainingData> EncodeLike(const RawTable& table, const Forest& forest, const std::string& target) {
  int ti = table.FindColumn(target);
  if (ti < 0) return InvalidArgument("test data has no column '" + target + "'");
  const RawColumn& tc = table.columns[ti];
  TrainingData d;
  d.n_rows = table.n_rows;
  d.n_features = forest.n_features;
  d.feature_names = forest.feature_names;
  d.encoding = forest.encoding;
  d.kind = forest.kind;
  d.class_labels = forest.class_labels;
  d.target = target;
  d.x.assign(static_cast<size_t>(d.n_features) * d.n_rows, 0.0f);
  for (const InputColumn& ic : forest.encoding.columns) {
    int ci = table.FindColumn(ic.name);
    if (ci < 0)
      return InvalidData("test data has no column '" + ic.name + "', which the model was trained on");
    const RawColumn& col = table.columns[ci];
    float* dst = d.x.data() + static_cast<size_t>(ic.first_feature) * d.n_rows;
    if (!ic.categorical()) {
      if (!col.numeric)
        return InvalidData("column '" + ic.name + "' is numeric in the model but not in the test data");
      std::copy(col.values.begin(), col.values.end(), dst);
      continue;
    }
    // Numeric-looking test columns keep no text codes: compare their values'
    // text through the category list instead.
    if (col.codes.empty())
      return InvalidData("column '" + ic.name + "' is categorical in the model but numeric here");
    std::vector<int32_t> to_model(col.categories.size(), -1);
    for (size_t k = 0; k < col.categories.size(); ++k) {
      auto it = std::find(ic.categories.begin(), ic.categories.end(), col.categories[k]);
      if (it != ic.categories.end()) to_model[k] = static_cast<int32_t>(it - ic.categories.begin());
    }
    for (int64_t r = 0; r < d.n_rows; ++r) {
      int32_t code = col.codes[r];
      if (code >= 0 && to_model[code] >= 0) dst[static_cast<size_t>(to_model[code]) * d.n_rows + r] = 1.0f;
    }
  }
  if (forest.kind == ModelKind::kClassifier) {
    if (tc.codes.empty()) return Internal("target column read without its text");
    d.y_class.resize(d.n_rows);
    for (int64_t r = 0; r < d.n_rows; ++r) {
      if (tc.codes[r] < 0) return InvalidData(fmt::format("test target missing in data row {}", r + 1));
      const std::string& label = tc.categories[tc.codes[r]];
      auto it = std::find(forest.class_labels.begin(), forest.class_labels.end(), label);
      if (it == forest.class_labels.end())
        return InvalidData(
            fmt::format("test data row {} has class '{}', unknown to the model", r + 1, label));
      d.y_class[r] = static_cast<int32_t>(it - forest.class_labels.begin());
    }
  } else {
    if (!tc.numeric) return InvalidData("test target is not numeric");
    d.y_value.assign(tc.values.begin(), tc.values.end());
  }
  return d;
}

}  // namespace fb::train
