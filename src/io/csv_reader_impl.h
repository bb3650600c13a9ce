// CsvReader's state, shared by csv_reader.cc (chunking, header, columns)
// and csv_parse.cc (the parse loop). Internal to io/.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/csv_reader.h"

namespace fb {

inline constexpr int32_t kIgnoredColumn = -1;
inline constexpr int32_t kCategoricalColumn = -2;

struct CsvReader::Impl {
  std::unique_ptr<ReadStream> stream;
  std::string name;
  CsvOptions opt;
  CsvSchema schema;
  // Per file column: feature index, kIgnoredColumn or kCategoricalColumn.
  std::vector<int32_t> col_to_feature;
  // Categorical input columns (schema.input_columns with categories), and
  // per file column the index of its entry, or -1.
  struct Categorical {
    int32_t first_feature = 0;
    int32_t width = 0;
    std::string name;
    std::unordered_map<std::string_view, int32_t> index;  // category -> offset; views into schema
  };
  std::vector<Categorical> categorical;
  std::vector<int32_t> col_categorical;
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
  Status ParseField(const char*& p, const char* end, int32_t col, float* row, uint64_t line,
                    uint64_t* extra_lines, std::string* scratch) const;
  // Noinline: keeps the hot loop in Parse small.
  [[gnu::noinline]] const char* ParseRow(const char* p, const char* end, float* row, uint64_t line,
                                         uint64_t* extra, std::string* scratch, Status* error) const;
  // Parse's row loop; kFast: 0 general parser only (categorical columns),
  // 1 plain-integer rows of features in column order, 2 of mapped columns.
  template <int kFast>
  void ParseRows(const CsvChunk& chunk, CsvBlock* b) const;
  Status StoreText(std::string_view text, int32_t col, float* row, uint64_t line) const;
  // Header -> col_to_feature (and categorical): by the feature names, or by
  // the raw input columns.
  Status MapFeatureNames(const std::vector<std::string>& header, uint64_t line);
  Status MapInputColumns(const std::vector<std::string>& header, uint64_t line);
  std::string ColumnLabel(int32_t col) const;
};

}  // namespace fb
