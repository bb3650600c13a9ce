// ColumnMap: how an input table's columns become the model's features and
// the kept columns, the one place where that is decided for every input
// format (CSV and Parquet readers both call MapColumns).
//
// Rules (see io/csv_reader.h for the reader's side):
//   - kept columns (--keep-columns): names from the header, or 1-based
//     positions when the input has no header; each must exist once;
//   - a model trained on raw columns (schema.input_columns) reads them by
//     name (numeric ones parsed, categorical ones one-hot encoded); a headed
//     input that lacks them but has every feature name is read by feature
//     names instead;
//   - a model with feature names reads a headed input by name (any order,
//     extra columns ignored, a name twice is an error);
//   - otherwise columns are the features by position: the columns that are
//     not kept must be exactly the model's features, in order.
//
// Thread safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "io/csv_reader.h"

namespace fb {

inline constexpr int32_t kIgnoredColumn = -1;
inline constexpr int32_t kCategoricalColumn = -2;
inline constexpr int32_t kPreprocessedColumn = -3;  // a raw input of the model's preprocessing

struct ColumnMap {
  // Per input column: feature index, kIgnoredColumn, kCategoricalColumn or
  // kPreprocessedColumn.
  std::vector<int32_t> col_to_feature;
  // Categorical input columns, and per input column the index of its entry, or -1.
  struct Categorical {
    int32_t first_feature = 0;
    int32_t width = 0;
    std::string name;
    std::unordered_map<std::string_view, int32_t> index;  // category -> offset; views into the schema
  };
  std::vector<Categorical> categorical;
  std::vector<int32_t> col_categorical;
  // Models with preprocessing: per input column, the index of the raw input
  // (CsvSchema::preprocessing->inputs) it fills, or -1.
  std::vector<int32_t> col_input;
  // Input column of each kept column, in --keep-columns order, and its name
  // (the header's, or "column_<k>" without one).
  std::vector<int32_t> kept;
  std::vector<std::string> kept_names;
};

// `names`: the input's column names (with has_header false: only their count
// matters). `schema` must outlive the map (categories are views into it).
// `trim` removes blanks around names of raw columns (CSV). Errors are
// kInvalidData / kInvalidArgument with `file` and `line` attached.
Result<ColumnMap> MapColumns(const std::vector<std::string>& names, bool has_header, const CsvSchema& schema,
                             const std::vector<std::string>& keep, char delimiter, const std::string& file,
                             uint64_t line);

// Models with preprocessing: runs the program on a row whose raw inputs are
// in `prep`, writing the n_features features to `row`, then checks them as
// the estimator would (NaN when it refuses missing values, infinity). Errors
// are kInvalidData without a place (the reader adds file and row).
Status RunPreprocessing(const CsvSchema& schema, const CsvOptions& opt, PrepRow* prep, float* row);

}  // namespace fb
