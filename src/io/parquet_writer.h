// ParquetResultWriter: predictions (and kept columns) as a Parquet file,
// written through a ResultSink, so it is atomic and hashed like every other
// output.
//
// Layout: the kept columns first, typed as read (CSV text as STRING; from
// Parquet their own type: BOOLEAN, INT32/INT64 with their integer, DATE,
// TIME and TIMESTAMP annotations, FLOAT, DOUBLE, STRING; decimals are
// written as DOUBLE), all optional; then the prediction columns of
// ResultFormatter::columns(): labels as the model's label type (INT64 when
// every label is an integer, DOUBLE when they are floats, else STRING),
// probabilities, margins and regression values as DOUBLE, all required.
// Row groups of at most `rows_per_group` rows (default 1,048,576), data
// pages v1 of at most 65,536 values, PLAIN encoding, RLE definition levels,
// SNAPPY (default) or ZSTD compression; no statistics.
//
// Thread safety: one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/compression.h"
#include "io/parquet_format.h"
#include "io/result_writer.h"

namespace fb {

class ParquetResultWriter {
 public:
  // `formatter` gives the columns (its layout's kept columns and columns()).
  static Result<ParquetResultWriter> Create(const ResultFormatter& formatter, Compression codec,
                                            int64_t rows_per_group = int64_t{1} << 20);

  // Writes the leading magic.
  Status Begin(ResultSink* sink);
  // Buffers a block; writes a row group when enough rows are buffered.
  Status Append(const PredictionRows& rows, const std::vector<KeptValues>& kept, ResultSink* sink);
  // Writes the last row group and the footer.
  Status Finish(ResultSink* sink);

 private:
  struct Buffer {
    std::vector<int64_t> ints;
    std::vector<double> doubles;
    std::string bytes;
    std::vector<uint32_t> lens;
    std::vector<uint8_t> valid;
  };
  Status Flush(ResultSink* sink);
  std::vector<parquet::WriteColumn> schema_;
  std::vector<KeptColumnInfo> kept_;
  std::vector<OutputColumn> outputs_;
  std::vector<std::string> labels_;
  std::vector<int64_t> label_ints_;
  std::vector<double> label_doubles_;
  int label_kind_ = 0;  // 0 string, 1 int64, 2 double
  Compression codec_ = Compression::kSnappy;
  int64_t rows_per_group_ = 0;
  std::vector<Buffer> buf_;
  int64_t buffered_ = 0;
  int64_t total_rows_ = 0;
  uint64_t offset_ = 0;
  std::vector<parquet::WriteRowGroup> groups_;
};

}  // namespace fb
