// The parts of Parquet's file format (parquet-format's parquet.thrift) that
// forestbatch reads and writes: the footer (FileMetaData with the schema and
// the row groups' column chunks) and page headers, decoded from and encoded
// to Thrift's compact protocol (io/thrift_compact.h).
//
// Parse functions take untrusted bytes and check what the rest of the reader
// relies on: counts and sizes are non-negative and fit the file, the schema
// is a tree whose leaves match the row groups' column chunks, and every
// column chunk lies inside the file.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fb::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
const char* PhysicalTypeName(PhysicalType t);

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};
const char* EncodingName(int32_t e);

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,  // Hadoop's framed lz4 (deprecated)
  kZstd = 6,
  kLz4Raw = 7,
};
const char* CodecName(int32_t c);

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

// What a column's values mean (from LogicalType, or the older ConvertedType).
enum class Meaning : uint8_t {
  kPlain,      // numbers / bytes as stored
  kString,     // UTF-8 text (STRING, ENUM, JSON, UTF8)
  kDecimal,    // unscaled integer x 10^-scale
  kDate,       // INT32 days since 1970-01-01
  kTimestamp,  // INT64 units since the epoch (unit below); INT96 legacy timestamps too
  kTime,       // time of day (unit below)
  kUnsignedInt,
  kOther,  // anything else (UUID, FLOAT16, ...): bytes
};

enum class TimeUnit : uint8_t { kMillis, kMicros, kNanos };

// A leaf column of the schema (a column chunk in every row group).
struct Column {
  std::string name;  // top-level field name ("a" or, nested, the path joined by '.')
  bool nested = false;
  PhysicalType type = PhysicalType::kInt32;
  int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY
  Repetition repetition = Repetition::kRequired;
  int16_t max_def = 0;  // definition level of a present value
  int16_t max_rep = 0;
  Meaning meaning = Meaning::kPlain;
  TimeUnit unit = TimeUnit::kMicros;
  bool utc = true;  // timestamps: isAdjustedToUTC
  int32_t scale = 0, precision = 0;
  int32_t bit_width = 0;  // INTEGER logical type (0: not given)
};

struct ColumnChunk {
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t total_uncompressed_size = 0;
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1: none
  std::vector<int32_t> encodings;
  // The nulls its statistics state (-1: not stated). A hint only: the pages
  // decide.
  int64_t null_count = -1;
  // Derived: the byte range of the chunk's pages in the file.
  int64_t start = 0;
  int64_t length = 0;
};

struct RowGroup {
  int64_t num_rows = 0;
  std::vector<ColumnChunk> columns;  // one per schema leaf, in schema order
};

struct FileMeta {
  int32_t version = 1;
  int64_t num_rows = 0;
  std::vector<Column> columns;
  std::vector<RowGroup> row_groups;
  std::string created_by;
};

// Parses a footer (the FileMetaData bytes) of a file of `file_size` bytes
// whose data (everything before the footer) ends at `data_end`.
Result<FileMeta> ParseFileMeta(std::string_view footer, uint64_t data_end);

enum class PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct PageHeader {
  int32_t type = 0;
  int32_t uncompressed_size = 0;
  int32_t compressed_size = 0;
  // Data page (v1 and v2) / dictionary page.
  int32_t num_values = 0;
  int32_t encoding = 0;
  int32_t def_encoding = 3;  // v1: RLE (or the old BIT_PACKED)
  int32_t rep_encoding = 3;
  // v2 only.
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t def_bytes = 0;
  int32_t rep_bytes = 0;
  bool is_compressed = true;
};

// Parses a page header at the start of `bytes`; *consumed = its length.
Result<PageHeader> ParsePageHeader(std::string_view bytes, size_t* consumed);

// --- writing ---

struct WriteColumn {
  std::string name;
  PhysicalType type = PhysicalType::kDouble;
  bool optional = false;
  Meaning meaning = Meaning::kPlain;  // kString, kDate, kTimestamp, kDecimal, kTime, kPlain
  TimeUnit unit = TimeUnit::kMicros;
  bool utc = true;
  int32_t scale = 0, precision = 0, type_length = 0;
  int32_t bit_width = 0;  // INTEGER logical type when > 0
  bool is_signed = true;
};

struct WriteChunk {
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t uncompressed = 0, compressed = 0;  // page headers included
  int64_t offset = 0;                        // first page
  std::vector<int32_t> encodings;
  int64_t null_count = -1;  // >= 0: written as the chunk's statistics
};

struct WriteRowGroup {
  int64_t num_rows = 0;
  int64_t total_byte_size = 0;
  std::vector<WriteChunk> columns;
};

std::string SerializeFileMeta(const std::vector<WriteColumn>& schema,
                              const std::vector<WriteRowGroup>& groups, int64_t num_rows,
                              std::string_view created_by);
std::string SerializeDataPageHeader(int32_t uncompressed, int32_t compressed, int32_t num_values,
                                    int32_t encoding);

}  // namespace fb::parquet
