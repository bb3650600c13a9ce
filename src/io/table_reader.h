// TableReader: what the pipeline reads an input table through, whatever its
// format: CSV text (io/csv_reader.h) or Parquet (io/parquet_reader.h). Both
// produce the same parsed block: the model's feature matrix (float32,
// row-major, the features mapped and encoded by io/column_map.h, the one place
// where input columns become features) plus the kept columns
// (--keep-columns) that travel to the output.
//
// Reading is split in three so that parsing runs in parallel while the input
// is read in order:
//   1. NextChunk (one thread, in order) reads the next unit of work: whole
//      rows of text, or a slice of a Parquet row group (whose needed column
//      chunks are read when its first slice is handed out);
//   2. Parse (any thread, any order, const) turns a chunk into a block;
//   3. Account (one thread, in chunk order) counts rows and turns a block's
//      error into one with its absolute place in the file.
//
// Kept columns: values as read. CSV gives text exactly as it stood in the
// field (quotes removed); Parquet gives typed values (booleans, integers,
// floating point, strings, dates and timestamps; see KeptType).
//
// Thread safety: NextChunk/Account/Locate from one thread; Parse is const and
// may run concurrently on different chunks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/default_init.h"
#include "common/status.h"

namespace fb {

// The type of a kept column's values.
enum class KeptType : uint8_t {
  kText,       // CSV field text, verbatim
  kBool,       // ints: 0/1
  kInt,        // ints
  kUnsigned,   // ints, as uint64
  kFloat,      // doubles (FLOAT in the input)
  kDouble,     // doubles
  kString,     // text (UTF-8)
  kDecimal,    // text: the exact decimal digits
  kDate,       // ints: days since 1970-01-01
  kTimestamp,  // ints: units since the epoch
  kTime,       // ints: units since midnight
};

enum class KeptUnit : uint8_t { kMillis, kMicros, kNanos };

struct KeptColumnInfo {
  std::string name;
  KeptType type = KeptType::kText;
  KeptUnit unit = KeptUnit::kMicros;  // kTimestamp, kTime
  bool utc = true;                    // kTimestamp: adjusted to UTC
  int32_t bit_width = 0;              // kInt/kUnsigned: 8, 16, 32 or 64 (0: 64)
};

// One kept column's values for the rows of a block.
struct KeptValues {
  std::vector<int64_t> ints;    // integer-like types
  std::vector<double> doubles;  // kFloat, kDouble
  std::string text;             // text types: values back to back
  std::vector<uint32_t> ends;   // text types: value i is text[ends[i-1], ends[i])
  std::vector<uint8_t> valid;   // 0: null (missing)

  void Clear() {
    ints.clear();
    doubles.clear();
    text.clear();
    ends.clear();
    valid.clear();
  }
  std::string_view TextAt(size_t i) const {
    const uint32_t b = i ? ends[i - 1] : 0;
    return std::string_view(text).substr(b, ends[i] - b);
  }
  void AddText(std::string_view v, bool present = true) {
    text.append(v);
    ends.push_back(static_cast<uint32_t>(text.size()));
    valid.push_back(present);
  }
};

struct ParquetGroup;  // io/parquet_reader.cc: a row group's columns, decoded once for its slices

// A unit of read work. CSV: whole rows of text. Parquet: a slice of a row
// group's rows (a few thousand, about chunk_bytes of features), sharing the
// row group's needed column chunks and their one decode with the group's
// other slices.
struct TableChunk {
  // CSV: whole rows; always ends with '\n'. Grown without zeroing: only the
  // first `size` bytes are ever read.
  DefaultInitVector<char> bytes;
  size_t size = 0;          // bytes in use
  bool has_quotes = false;  // a '"' occurs somewhere
  // Parquet: the row group (shared by its slices; released by
  // ReleaseShared once parsed), and the slice's rows [slice_begin,
  // slice_end) within it.
  std::shared_ptr<ParquetGroup> group;
  size_t slice_begin = 0, slice_end = 0;

  // Drops this chunk's hold on shared read state (a Parquet row group's
  // decoded columns go back to the reader once its last slice lets go).
  void ReleaseShared() { group.reset(); }
};

// A parsed chunk. Reused between calls.
struct TableBlock {
  // rows x n_features, row-major (size >= rows * n_features). Grown without
  // zeroing: a parser writes every feature of every row it reports.
  DefaultInitVector<float> values;
  size_t rows = 0;
  uint64_t lines = 0;            // CSV: physical lines the chunk covered
  Status error;                  // CSV: line relative to the chunk (1 = its first line); see Account
  std::vector<KeptValues> kept;  // one per kept column
};

// Text of dates (YYYY-MM-DD) and timestamps / times of day (ISO 8601,
// fraction digits per unit, 'Z' when adjusted to UTC) for kept values.
std::string KeptDateText(int64_t days);
std::string KeptTimestampText(int64_t value, KeptUnit unit, bool utc, bool time_of_day);

class TableReader {
 public:
  virtual ~TableReader() = default;
  // Fills `chunk` with the next unit of work; false at the end of input.
  virtual Result<bool> NextChunk(TableChunk* chunk) = 0;
  // True once the input has been read to its end.
  virtual bool at_end() const = 0;
  // Parses `chunk` into `block` (errors land in block->error).
  virtual void Parse(const TableChunk& chunk, TableBlock* block) const = 0;
  // In chunk order: counts the block's rows; returns its error, if any, with
  // its absolute place.
  virtual Status Account(const TableBlock& block) = 0;
  // A read error that concerns the next unaccounted row gets its place.
  virtual Status Locate(Status status) const = 0;
  virtual uint64_t rows_accounted() const = 0;
  // The kept columns, in --keep-columns order.
  virtual const std::vector<KeptColumnInfo>& kept_columns() const = 0;
  // How many chunks may be in flight at once for bounded memory (a Parquet
  // row group can be large).
  virtual size_t max_chunks_in_flight(int threads) const { return 2 * static_cast<size_t>(threads) + 2; }
  // Bytes read from storage so far (Parquet: footer and column chunks).
  virtual uint64_t bytes_read() const { return 0; }
  // Once every chunk has been read and parsed: kIoError naming the input
  // when it changed meanwhile (truncated, grown, written to, or, for
  // Parquet, whose ranges are read one by one, replaced), so that nothing
  // parsed from it is used (storage/storage.h: ReadStream::CheckUnchanged).
  // Inputs that cannot tell (stdin, pipes, S3) answer OK.
  virtual Status CheckUnchanged() { return Status::Ok(); }
};

}  // namespace fb
