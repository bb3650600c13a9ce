// CsvReader's state, shared by csv_reader.cc (chunking, header, columns)
// and csv_parse.cc (the parse loop). Internal to io/.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/preprocessing.h"
#include "io/column_map.h"
#include "io/csv_reader.h"

namespace fb {

struct CsvReader::Impl {
  std::unique_ptr<ReadStream> stream;
  std::string name;
  CsvOptions opt;
  CsvSchema schema;
  // Per file column: feature index, kIgnoredColumn or kCategoricalColumn,
  // categorical columns and kept columns (io/column_map.h).
  ColumnMap map;
  std::vector<int32_t> col_to_feature;  // == map.col_to_feature (the parse loops' view)
  using Categorical = ColumnMap::Categorical;
  std::vector<KeptColumnInfo> kept_info;
  std::vector<std::string> column_names;
  bool has_header = false;
  int32_t n_columns = 0;
  std::vector<char> carry;  // bytes after the last row boundary handed out
  bool eof = false;
  uint64_t lines_accounted = 0;
  uint64_t rows_accounted = 0;
  size_t peak = 0;
  bool locate_next = false;  // the last NextChunk error concerns the next unaccounted row

  Result<bool> NextChunk(CsvChunk* chunk);
  // `prep`: the row's preprocessing registers (models with preprocessing), else null.
  Status ParseField(const char*& p, const char* end, int32_t col, float* row, uint64_t line,
                    uint64_t* extra_lines, std::string* scratch, PrepRow* prep) const;
  // Noinline: keeps the hot loop in Parse small.
  [[gnu::noinline]] const char* ParseRow(const char* p, const char* end, float* row, uint64_t line,
                                         uint64_t* extra, std::string* scratch, Status* error,
                                         PrepRow* prep) const;
  // Runs the preprocessing on a parsed row's raw cells into `row`, then
  // checks the features as the estimator would (NaN, infinity).
  Status FinishPreprocessedRow(PrepRow* prep, float* row, uint64_t line) const;
  // Parse's row loop; kFast: 0 general parser only (categorical columns),
  // 1 plain-integer rows of features in column order, 2 of mapped columns.
  template <int kFast>
  void ParseRows(const CsvChunk& chunk, CsvBlock* b) const;
  Status StoreText(std::string_view text, int32_t col, float* row, uint64_t line, PrepRow* prep) const;
  // A raw input column of the preprocessing: its text, or its number as a
  // double (parsed as above, not cast), into the row's registers.
  Status StoreRaw(std::string_view text, int32_t col, uint64_t line, PrepRow* prep) const;
  // The kept columns' fields of the block's rows (a second pass over the
  // chunk, so the parse loops stay as they are).
  void ExtractKept(const CsvChunk& chunk, CsvBlock* b) const;
  std::string ColumnLabel(int32_t col) const;
  // The float the trees compare for the parsed value `v` of feature `f`.
  float FeatureValue(int32_t f, double v) const {
    return schema.float64_features.empty() ? static_cast<float>(v)
                                           : Float64FeatureValue(schema.float64_features[f], v);
  }
};

}  // namespace fb
