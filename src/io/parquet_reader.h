// ParquetReader: reads a Parquet file into the same blocks as the CSV reader
// (io/table_reader.h): the model's features (mapped by io/column_map.h, as
// for CSV with a header: the column names are the header) plus kept columns.
//
// I/O: the footer first (one ranged read of the file's tail), then per row
// group one ranged read per needed column chunk (adjacent chunks merged),
// so only the columns the model and --keep-columns need are read: on S3 a
// wide table costs the bytes of its needed columns, not of the file.
//
// Work and memory: a chunk of work is a slice of a row group, of about
// CsvOptions::chunk_bytes of features (1 MiB: 4,443 rows of 59 features), so
// the block, sums, probabilities and text after it are CSV-sized and stay in
// cache. The first threads to parse one of a row group's slices prepare its
// needed columns together, column by column; then each slice decodes its
// own rows. A numeric feature column that is not kept, whose pages are
// dictionary indices or PLAIN numbers without nulls, is prepared by keeping
// its decompressed pages, converting its dictionary and marking, per slice,
// where the slice's first row is in its index streams (checking their
// runs); a slice then decodes its rows from those marks, 512 rows at a time,
// straight into the floats it transposes into its row-major block (the
// lookups and the transposition: io/parquet_simd.h, per SIMD target). Other
// columns (and a chunk whose statistics state nulls, at once: its pages are
// not decompressed twice) are decoded whole when prepared, into a column-major form kept
// until the row group's last slice is parsed (numeric columns as one byte
// per row while their dictionary has at most 256 values, else float32;
// categorical columns as an int32 per row; kept columns and a preprocessing
// model's raw inputs as their values). Memory: per row group alive, its
// needed column chunks (compressed), the decompressed pages of the columns
// read slice by slice (in one buffer, advised to huge pages; a column's at
// most its chunk's stated uncompressed size, 9 bytes a row plus 64 KiB and
// 64 times its compressed bytes plus 64 KiB, else the column is decoded
// whole) and the decoded form of the others (at most 4 bytes per row per
// numeric feature; the features bounded by 4 GiB); the
// slices in flight (max_chunks_in_flight: 2 x threads + 2) keep their row
// groups alive, at most two at once when a row group has more slices than
// that (at most one per slice in flight plus the one being handed out in
// general). Up to two released row groups' buffers (of at most 256 MiB
// each) are kept, process-wide, for later row groups and files.
//
// Supported (what DuckDB, Spark/parquet-mr, pyarrow and arrow-rs write, by
// default and on request): flat schemas (a nested column is an error only
// if it is needed); physical types BOOLEAN, INT32, INT64, INT96 (legacy
// timestamps), FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY (decimals;
// other fixed-length bytes as hex text); required and optional columns
// (null = missing value); data pages v1 and v2 and dictionary pages;
// encodings PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE (levels and
// booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
// BYTE_STREAM_SPLIT; codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW.
//
// As features: booleans 0/1; integers, dates (days since 1970-01-01),
// timestamps and times (units since the epoch / midnight) as numbers,
// correctly rounded to float32 through double (what parsing their decimal
// text does); FLOAT and DOUBLE cast to float32; DECIMAL as the correctly
// rounded double of its value; strings parsed as CSV fields are (numbers,
// missing-value spellings) or looked up as categories. A model with a
// preprocessing Pipeline gets its raw input columns as the CSV reader gives
// them (numbers as above; text inputs: strings as they stand, typed values
// as their --keep-columns text; nulls missing) and the same program runs
// row by row (io/column_map.h RunPreprocessing).
//
// Decoding: a numeric feature column that is not kept goes straight from
// its pages into float32 (dictionary values converted once per dictionary,
// indices looked up as they are unpacked), without an intermediate per-row
// copy; row-group-sized buffers are reused and backed by huge pages where
// available.
//
// Untrusted input: every offset, length, count and page size is checked
// against the file, the chunk and the row group before use; decompressed
// pages must have exactly the size their header states, at most
// kMaxPageBytes; dictionary indices and bit widths are range-checked.
// Errors are kInvalidData naming the file, row group, column and, for
// values, the row (1-based data row of the file, in the Status's line
// field). An error found when a row group's columns are prepared (the
// first failing column, in column order) is every one of its slices' error,
// so its first slice reports it; a dictionary index past its dictionary in
// a column read slice by slice is the error of the slice holding it.
//
// Thread safety: as TableReader.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/csv_reader.h"
#include "io/table_reader.h"
#include "storage/storage.h"

namespace fb {

inline constexpr size_t kMaxPageBytes = size_t{1} << 30;

// True when the name says Parquet (.parquet, .pq, .parq; any case).
bool IsParquetName(std::string_view name);
// True when the first bytes are Parquet's magic "PAR1".
bool HasParquetMagic(std::string_view head);

class ParquetReader final : public TableReader {
 public:
  // Reads and checks the footer of `uri` in `storage` and maps its columns.
  // Uses options.missing_is_error, infinity_is_error and keep_columns
  // (names; header/delimiter do not apply) or keep_all_columns. A schema of
  // no features reads the kept columns alone (blocks of no feature values).
  static Result<std::unique_ptr<ParquetReader>> Open(std::shared_ptr<Storage> storage, const std::string& uri,
                                                     const CsvOptions& options, const CsvSchema& schema);
  ~ParquetReader() override;

  Result<bool> NextChunk(TableChunk* chunk) override;
  bool at_end() const override;
  void Parse(const TableChunk& chunk, TableBlock* block) const override;
  Status Account(const TableBlock& block) override;
  Status Locate(Status status) const override;
  uint64_t rows_accounted() const override;
  const std::vector<KeptColumnInfo>& kept_columns() const override;
  size_t max_chunks_in_flight(int threads) const override;
  uint64_t bytes_read() const override;
  // A local file's size and modification time against those when opened
  // (its ranges are read by separate opens: a file replaced meanwhile too).
  Status CheckUnchanged() override;

  // The file's row count (from the footer) and row groups.
  int64_t num_rows() const;
  size_t num_row_groups() const;

 private:
  struct Impl;
  explicit ParquetReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fb
