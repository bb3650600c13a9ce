// RawTable: a training table, a headed CSV file or a Parquet file, read into
// typed columns.
//
// Every column is numeric when each of its non-missing fields parses as a
// number, else categorical (its distinct non-missing fields, trimmed, are the
// categories, sorted by byte value). Missing fields are the tokens of
// IsMissingToken (model/input_encoding.h). Columns named in `text_columns`
// (the target) also keep their text codes even when numeric.
//
// Format: the first line is the header; fields separated by `,`; a field may
// be double-quoted with "" for a quote inside; a quoted field may not span
// lines. Every row must have as many fields as the header (InvalidData with
// the line number otherwise). The file is read twice (types, then values) so
// memory holds only the parsed columns, never the text.
//
// This is the trainer's own bounded reader; predict/run use src/io.
//
// Parquet (ReadParquetTable): every column through io's ParquetReader (the
// same bounded decoder `predict` uses), all rows in memory. Typed columns are
// numeric, with the float32 `predict` gives the same value (booleans 0/1;
// integers, dates, timestamps and times as numbers through double; FLOAT and
// DOUBLE cast; DECIMAL as its correctly rounded double), nulls missing; their
// text codes (the target, kept columns) are the values' text as
// `--keep-columns` writes it (integers in decimal, doubles shortest,
// `true`/`false`, ISO dates). String columns follow the CSV rules above (a
// number, a missing-value token, or a category). A nested or repeated column
// is refused, naming it.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace fb::train {

struct RawColumn {
  std::string name;
  bool numeric = true;
  std::vector<float> values;            // numeric: one per row, NaN when missing
  std::vector<std::string> categories;  // text codes' meaning, sorted (categorical or text column)
  std::vector<int32_t> codes;           // one per row: index into categories, -1 when missing
};

struct RawTable {
  std::vector<RawColumn> columns;
  int64_t n_rows = 0;

  // Index of the column named `name`, or -1.
  int FindColumn(const std::string& name) const;
};

Result<RawTable> ReadCsvTable(const std::string& path, const std::set<std::string>& text_columns = {});
Result<RawTable> ReadParquetTable(const std::string& path, const std::set<std::string>& text_columns = {});
// Parquet when the name says so (io's IsParquetName) or the file starts with
// "PAR1", else CSV.
Result<RawTable> ReadTable(const std::string& path, const std::set<std::string>& text_columns = {});

// Splits one CSV line into fields (quotes handled as above). `scratch`
// holds unescaped quoted fields (a deque: its elements never move); views
// point into `line` or `scratch`.
// InvalidData (column set) for an unterminated quote.
Status SplitCsvLine(std::string_view line, std::vector<std::string_view>* fields,
                    std::deque<std::string>* scratch);

}  // namespace fb::train
