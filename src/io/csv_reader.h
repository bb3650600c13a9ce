// CsvReader: a streaming CSV reader that turns a text file into float32
// feature rows for a model, in bounded memory, in chunks that many threads
// can parse at once.
//
// Reading is split in two so that parsing runs in parallel while the file is
// read sequentially:
//   1. NextChunk (one thread, in order) reads the next run of whole rows,
//      about `chunk_bytes` long, ending at a row boundary (quotes respected).
//   2. Parse (any thread, any order, const) turns one chunk into a row-major
//      float matrix with the model's feature order.
//   3. Account (one thread, in chunk order) tallies lines and rows and turns a
//      chunk's parse error into one with the file's absolute line number.
// Memory: the reader itself holds at most one partial row beyond the chunk it
// hands out; a row longer than `max_row_bytes` is an error. So a file of any
// size needs about (chunks in flight) x chunk_bytes.
//
// Text rules (pandas.read_csv compatible where it matters):
//   - a UTF-8 byte order mark at the start of the file is not data;
//   - fields separated by `delimiter`; rows end with LF or CRLF; fully empty
//     lines are skipped; a final row without a line end is accepted;
//   - a field that starts with '"' is quoted: it ends at the next lone '"',
//     "" inside it stands for one '"', and it may contain delimiters and line
//     ends; text after the closing quote up to the delimiter is kept;
//   - numbers: decimal or scientific notation with optional sign, "inf",
//     "infinity" (any case), surrounded by optional white space; parsed to the
//     correctly rounded double, then cast to float32 (what pandas then
//     scikit-learn do); integers of up to 15 digits take a fast exact path;
//   - missing values (NaN): an empty field and pandas' default NA spellings
//     (see kMissingSpellings), plus any spelling of "nan";
//   - header: kYes = the first row names the columns; kNo = data; kAuto = the
//     first row is a header when one of its fields is neither a number nor a
//     missing-value spelling.
// Columns (io/column_map.h, shared with the Parquet reader): with a header
// and a model with feature names, columns are matched
// to features by name in any order, extra columns are ignored and missing
// ones are an error naming them. Otherwise the column count must equal the
// model's feature count. Every row must have the same number of fields as
// the first.
// Raw input columns (CsvSchema::input_columns, models trained from raw CSV
// with categorical columns): each input column is found by name in the
// header (names trimmed); extra columns are ignored. (A headed file that
// lacks some raw column but has every feature name, such as data already
// expanded by get_dummies, is read by feature names instead, and a
// headerless one by position.) A
// numeric input column fills one feature as above. A categorical one fills
// its block of 0/1 indicators: the field, trimmed, is looked up among the
// categories (exact bytes); a match sets its indicator to 1, anything else
// (a missing value, a category not seen in training) leaves all of them 0,
// as pandas get_dummies does. The same rules as InputEncoder
// (model/input_encoding.h), which the pipeline's tests compare against.
// Kept columns (--keep-columns) travel as the field's text, quotes removed.
// Errors are kInvalidData naming file, line (1-based, physical lines of the
// decompressed text) and column (1-based field number).
//
// Thread safety: NextChunk/Account from one thread; Parse is const and may
// run concurrently on different chunks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/float64_features.h"
#include "common/missing_values.h"
#include "common/preprocessing.h"
#include "common/status.h"
#include "io/table_reader.h"
#include "storage/storage.h"

namespace fb {

enum class CsvHeader : uint8_t { kAuto, kYes, kNo };

struct CsvOptions {
  char delimiter = ',';
  CsvHeader header = CsvHeader::kAuto;
  // Report the first missing value as an error (models that reject NaN)
  // instead of passing NaN on.
  bool missing_is_error = false;
  // Report a value that is infinite as float32 (inf, or beyond float32's
  // range) as scikit-learn does ("Input X contains infinity or a value too
  // large for dtype('float32')") instead of passing it on.
  bool infinity_is_error = false;
  size_t chunk_bytes = size_t{1} << 20;     // target size of a chunk
  size_t max_row_bytes = size_t{64} << 20;  // longer rows (or an unclosed quote) are an error
  // Columns carried verbatim to the output (--keep-columns): names from the
  // header, or 1-based positions without one. See io/column_map.h.
  std::vector<std::string> keep_columns = {};
  // Parquet only: keep every column of the file, in schema order, instead of
  // keep_columns (the trainer reads whole tables so: train/raw_table.h).
  bool keep_all_columns = false;
};

// A raw column that fills features [first_feature, first_feature + width)
// (io's copy of model/forest.h's InputColumn; io does not see model/).
struct CsvInputColumn {
  std::string name;
  int32_t first_feature = 0;
  std::vector<std::string> categories;  // empty: a numeric column (width 1); else one indicator each
};

// What the model expects of its input.
struct CsvSchema {
  int32_t n_features = 0;
  std::vector<std::string> feature_names;  // empty: columns are matched by position
  // Non-empty: the input's columns by name, one-hot encoded (see the file
  // comment); together they must fill every feature exactly once.
  std::vector<CsvInputColumn> input_columns;
  // Non-null: the model's preprocessing (common/preprocessing.h, imported
  // scikit-learn Pipelines). Its raw input columns are found by name in the
  // header (any order, extra columns ignored), or by position when it has no
  // names; numeric ones are parsed to double, text ones kept as text (exact
  // bytes; empty or an NA spelling is missing); each row is transformed in
  // the parse (the reader's parallel chunks) into the n_features features.
  // NaN or infinite features are then errors when missing_is_error /
  // infinity_is_error say so, and an infinite raw number too.
  std::shared_ptr<const Preprocessing> preprocessing;
  // Empty, or one per feature: the model compares float64 inputs, and each
  // parsed double becomes Float64FeatureValue(float64_features[f], v)
  // (common/float64_features.h) instead of float(v).
  std::vector<Float64Feature> float64_features;
};

// Whole rows of text / a parsed chunk (io/table_reader.h). Reused between calls.
using CsvChunk = TableChunk;
using CsvBlock = TableBlock;

class CsvReader final : public TableReader {
 public:
  // Reads the first row from `stream` (already decompressed) and resolves
  // the header and the column mapping. `name` is used in errors.
  static Result<std::unique_ptr<CsvReader>> Open(std::unique_ptr<ReadStream> stream, std::string name,
                                                 const CsvOptions& options, const CsvSchema& schema);
  ~CsvReader() override;

  // Fills `chunk` with the next whole rows. Returns false at the end of input.
  Result<bool> NextChunk(CsvChunk* chunk) override;
  // True once the input has been read to its end (no more chunks after the
  // ones already returned, except a pending one).
  bool at_end() const override;

  // Parses `chunk` into `block` (never fails as a call: errors land in
  // block->error with a chunk-relative line).
  void Parse(const CsvChunk& chunk, CsvBlock* block) const override;

  // In chunk order: counts the block's lines and rows; returns its error, if
  // any, with the absolute line number.
  Status Account(const CsvBlock& block) override;

  // A read error that concerns the row after everything accounted so far
  // (e.g. a row too long) gets that row's line: call after accounting all
  // earlier blocks.
  Status Locate(Status status) const override;

  bool has_header() const;
  // Column names from the header (empty without one).
  const std::vector<std::string>& column_names() const;
  // Fields per row in the file.
  int32_t n_columns() const;
  uint64_t rows_accounted() const override;
  const std::vector<KeptColumnInfo>& kept_columns() const override;
  // Largest buffer the reader has held (bytes), for the memory bound.
  size_t peak_buffer_bytes() const;
  Status CheckUnchanged() override;

 private:
  struct Impl;
  explicit CsvReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fb
