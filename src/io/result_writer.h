// Result writers: turn finalized predictions into output text (csv, seed,
// jsonl) and write it through a Storage WriteStream, atomically, with a
// SHA-256 of every byte written.
//
// Formats (numbers are spelled as Python's repr(float) spells them):
//   csv    header "prediction"; classifiers add, with proba, one column
//          "proba_<label>" per class in the model's class order (margins:
//          "margin_<label>", or "margin" for a single-output binary model);
//          multi-output regressors have "prediction_<k>". One line per row.
//          Models whose values are not probabilities name them instead
//          (IsolationForest: "score_samples", "decision_function").
//   seed   what the seed's `DataFrame(model.predict(X)).to_csv(out)` writes:
//          header ",0" (",0,1,..." for multi-output regressors), then
//          "<row>,<prediction>" with rows numbered from 0. Labels only.
//   jsonl  one JSON object per line: {"row":<n>,"prediction":<label or value>
//          [,"proba":{"<label>":p,...}][,"margin":[m,...]]} (named values:
//          "scores":{"<name>":v,...}); integer labels
//          are JSON numbers, other labels strings; multi-output regressors
//          give an array; NaN and infinities are null.
//   parquet (io/parquet_writer.h) the same columns, typed.
// Kept input columns (--keep-columns) come first in every row: csv writes
// them as text (CSV input: the field as read), jsonl as typed JSON values
// after "row" (CSV text that is a JSON number stays a number, an empty
// field is null). --output-columns selects and orders the prediction
// columns by their csv header names, each optionally renamed (NAME=NEW);
// with a selection, jsonl writes the selected columns as flat keys.
// CSV fields are quoted as Python's csv module does (QUOTE_MINIMAL).
//
// Thread safety: ResultFormatter is immutable after Create; Format may run on
// many threads at once. ResultSink is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/default_init.h"
#include "common/sha256.h"
#include "common/status.h"
#include "io/table_reader.h"
#include "storage/storage.h"

namespace fb {

enum class ResultFormat : uint8_t { kCsv, kSeed, kJsonl, kParquet };

const char* ResultFormatName(ResultFormat f);

struct ResultLayout {
  ResultFormat format = ResultFormat::kCsv;
  bool classifier = true;
  bool proba = false;               // classifiers: add per-class probabilities
  bool margin = false;              // the values are margins (before the link)
  std::vector<std::string> labels;  // classifiers: labels in class order
  // With proba: the value columns' names when they are not class
  // probabilities (IsolationForest: score_samples, decision_function);
  // empty: "proba_<label>".
  std::vector<std::string> value_names;
  bool labels_are_integers = false;
  int32_t n_values = 1;                     // values per row: classes (proba), outputs (margin, regressors)
  std::vector<KeptColumnInfo> kept;         // kept input columns, first in each row
  std::vector<std::string> output_columns;  // selection ("NAME" or "NAME=NEW"); empty: all
};

// One prediction column of the output.
struct OutputColumn {
  enum Kind : uint8_t { kLabel, kValue } kind = kValue;
  int32_t k = 0;     // kValue: index into the row's values
  std::string name;  // as written (after renaming)
};

// One block of finalized predictions (views; not owned).
struct PredictionRows {
  size_t n_rows = 0;
  int32_t n_cols = 0;
  const double* values = nullptr;  // n_rows x n_cols
  const int32_t* label = nullptr;  // classifiers: class index per row
};

// Text of a block of rows; `ends` (per row) only for formats that number rows.
struct FormattedRows {
  std::string text;
  std::vector<uint32_t> ends;
};

class ResultFormatter {
 public:
  // InvalidArgument for combinations that make no sense (proba on a
  // regressor, proba/margin with the seed format).
  static Result<ResultFormatter> Create(ResultLayout layout);

  const std::string& header() const { return header_; }
  const ResultLayout& layout() const { return layout_; }
  // The prediction columns written, in order (after --output-columns).
  const std::vector<OutputColumn>& columns() const { return columns_; }
  // Replaces *out with the rows' text; `kept` (one per layout().kept) holds
  // the kept columns' values of the same rows.
  void Format(const PredictionRows& rows, FormattedRows* out,
              const std::vector<KeptValues>* kept = nullptr) const;
  // True if rows carry their file row number (seed, jsonl): then call Number.
  bool numbers_rows() const {
    return layout_.format == ResultFormat::kSeed || layout_.format == ResultFormat::kJsonl;
  }
  // Appends the rows to *out numbered from first_row (0-based data row).
  void Number(const FormattedRows& rows, uint64_t first_row, DefaultInitVector<char>* out) const;
  // True when a numbered row is its number and its label alone, with short
  // labels (the seed format of a classifier): then NumberLabels writes the
  // rows straight from the labels, the same bytes as Format then Number, and
  // Format need not run.
  bool numbers_labels() const { return label_rows_; }
  // True when the output is a classifier's labels and nothing else (csv,
  // seed: Format's labels-only rows; Parquet: label columns, kept columns
  // or not): PredictionRows::values is never read.
  bool labels_only() const { return labels_only_; }
  // Appends n rows "row,label\n" (rows from first_row on) to *out.
  void NumberLabels(const int32_t* label, size_t n, uint64_t first_row, DefaultInitVector<char>* out) const;

 private:
  ResultLayout layout_;
  std::string header_;
  std::vector<std::string> label_text_;  // per class, as the format writes it
  std::vector<OutputColumn> columns_;
  bool general_ = false;
  bool label_rows_ = false;                // numbers_labels()
  bool labels_only_ = false;               // labels_only()
  std::string ValueName(int32_t k) const;  // the csv header name of value column k (proba / margin)  // kept
                                           // columns or a selection: the general row writer
  void FormatGeneral(const PredictionRows& rows, FormattedRows* out,
                     const std::vector<KeptValues>* kept) const;
};

// A kept value as CSV text / as a JSON value (nulls: "" / null).
void AppendKeptCsv(std::string* out, const KeptColumnInfo& info, const KeptValues& v, size_t row);
void AppendKeptJson(std::string* out, const KeptColumnInfo& info, const KeptValues& v, size_t row);

// Writes output bytes through a WriteStream and hashes them. With
// hold_back_bytes > 0, bytes are kept in memory until Commit (or until more
// than that many are pending), so a failure before then shows nothing even on
// a stream that cannot be rolled back (stdout).
class ResultSink {
 public:
  // hash = false: no SHA-256 (sha256_hex() stays empty), for callers that
  // keep no record of the output (`predict`).
  ResultSink(std::unique_ptr<WriteStream> stream, size_t hold_back_bytes = 0, bool hash = true);
  ~ResultSink();
  ResultSink(const ResultSink&) = delete;
  ResultSink& operator=(const ResultSink&) = delete;

  Status Write(std::string_view bytes);
  // Ends the writing: bytes() and sha256_hex() are final, no Write may
  // follow; Commit (or Abort) is still to come. Commit seals first if needed.
  void Seal();
  Status Commit();
  void Abort();

  uint64_t bytes() const { return bytes_; }
  // Hex SHA-256 of everything written; valid after Seal or Commit (empty
  // without hashing).
  const std::string& sha256_hex() const { return sha256_; }

 private:
  std::unique_ptr<WriteStream> stream_;
  Sha256 digest_;
  size_t hold_back_;
  bool holding_;
  bool hash_;
  std::string held_;
  uint64_t bytes_ = 0;
  std::string sha256_;
  bool sealed_ = false;
  bool done_ = false;
};

// CSV field quoting as Python's csv.writer (QUOTE_MINIMAL, ',' delimiter).
void AppendCsvField(std::string* out, std::string_view field);
// A JSON string literal (UTF-8 passed through; controls, '"', '\\' escaped).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace fb
