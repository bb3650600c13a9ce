// Parquet: the writer read back by the reader (in memory, through Storage),
// ranged reads of only the needed columns, storage faults, hostile bytes.
// Interoperability with DuckDB and arrow-rs: tests/parquet/run_interop.sh.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "common/compression.h"
#include "common/little_endian.h"
#include "io/column_map.h"
#include "io/parquet_format.h"
#include "io/parquet_fuzz_target.h"
#include "io/parquet_reader.h"
#include "io/parquet_writer.h"
#include "io/result_writer.h"
#include "io/thrift_compact.h"
#include "storage/memory_storage.h"

namespace fb {
namespace {

// A file of `rows` rows: kept columns id (text), key (string with nulls),
// then prediction (integer labels) and proba_a/proba_b (doubles).
std::string MakeFile(MemoryStorage* mem, const std::string& uri, size_t rows, int64_t rows_per_group,
                     Compression codec = Compression::kSnappy, int extra_kept = 0) {
  ResultLayout l;
  l.format = ResultFormat::kParquet;
  l.classifier = true;
  l.proba = true;
  l.labels = {"3", "7"};
  l.labels_are_integers = true;
  l.n_values = 2;
  l.kept = {{"id", KeptType::kText}, {"key", KeptType::kString}};
  for (int k = 0; k < extra_kept; ++k) l.kept.push_back({"x" + std::to_string(k), KeptType::kText});
  auto fmt = ResultFormatter::Create(l);
  EXPECT_TRUE(fmt.ok()) << fmt.status().ToString();
  auto w = ParquetResultWriter::Create(*fmt, codec, rows_per_group);
  EXPECT_TRUE(w.ok());
  auto ws = mem->OpenWrite(uri);
  ResultSink sink(std::move(ws).value());
  EXPECT_TRUE(w->Begin(&sink).ok());
  // Two blocks, so row groups straddle Append calls.
  for (size_t begin = 0; begin < rows;) {
    const size_t n = std::min<size_t>(rows - begin, 777);
    std::vector<double> values;
    std::vector<int32_t> labels;
    std::vector<KeptValues> kept(l.kept.size());
    for (size_t r = begin; r < begin + n; ++r) {
      const double p = static_cast<double>(r % 100) / 100.0;
      values.push_back(p);
      values.push_back(1 - p);
      labels.push_back(p < 0.5 ? 1 : 0);
      kept[0].AddText(std::to_string(r));
      kept[1].AddText(r % 3 == 0 ? "" : "k" + std::to_string(r), r % 3 != 0);
      for (int k = 0; k < extra_kept; ++k)
        kept[2 + k].AddText(std::string(40, static_cast<char>('a' + k % 26)));
    }
    PredictionRows pr{n, 2, values.data(), labels.data()};
    EXPECT_TRUE(w->Append(pr, kept, &sink).ok());
    begin += n;
  }
  EXPECT_TRUE(w->Finish(&sink).ok());
  EXPECT_TRUE(sink.Commit().ok());
  return *mem->Get(uri);
}

CsvSchema Features(std::vector<std::string> names) {
  CsvSchema s;
  s.n_features = static_cast<int32_t>(names.size());
  s.feature_names = std::move(names);
  return s;
}

struct Read {
  Status status;
  std::vector<float> values;
  std::vector<std::string> kept_text;  // first kept column, "<null>" for nulls
  uint64_t rows = 0;
};

// Every chunk the reader hands out, in order (each still to be parsed).
void AllChunks(ParquetReader* r, std::vector<TableChunk>* chunks) {
  for (;;) {
    TableChunk c;
    auto got = r->NextChunk(&c);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (!*got) break;
    chunks->push_back(std::move(c));
  }
}

// Each chunk parsed into its block, backwards, odd and even chunks on two
// threads: a row group's later slices reach it first, and both threads
// decode it together.
std::vector<TableBlock> ParseOnTwoThreadsBackwards(ParquetReader* r, const std::vector<TableChunk>& chunks) {
  std::vector<TableBlock> blocks(chunks.size());
  auto parse = [&](size_t parity) {
    for (size_t i = chunks.size(); i-- > 0;)
      if (i % 2 == parity) r->Parse(chunks[i], &blocks[i]);
  };
  std::thread other(parse, 1);
  parse(0);
  other.join();
  return blocks;
}

Read ReadBack(std::shared_ptr<Storage> storage, const std::string& uri, const CsvSchema& schema,
              std::vector<std::string> keep = {}, CsvOptions opt = {}) {
  Read out;
  opt.keep_columns = std::move(keep);
  auto r = ParquetReader::Open(storage, uri, opt, schema);
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  TableChunk chunk;
  TableBlock block;
  for (;;) {
    auto got = (*r)->NextChunk(&chunk);
    if (!got.ok()) {
      out.status = got.status();
      return out;
    }
    if (!*got) break;
    (*r)->Parse(chunk, &block);
    Status st = (*r)->Account(block);
    if (!st.ok()) {
      out.status = st;
      return out;
    }
    out.values.insert(out.values.end(), block.values.begin(),
                      block.values.begin() + block.rows * schema.n_features);
    if (!block.kept.empty()) {
      for (size_t i = 0; i < block.rows; ++i)
        out.kept_text.push_back(block.kept[0].valid[i] ? std::string(block.kept[0].TextAt(i)) : "<null>");
    }
  }
  out.rows = (*r)->rows_accounted();
  return out;
}

TEST(Parquet, WriterOutputReadsBackWithKeptColumnsAndNulls) {
  for (Compression c : {Compression::kSnappy, Compression::kZstd, Compression::kNone, Compression::kGzip}) {
    auto mem = std::make_shared<MemoryStorage>();
    MakeFile(mem.get(), "mem://a.parquet", 2500, 1000, c);
    Read got = ReadBack(mem, "mem://a.parquet", Features({"proba_7", "prediction"}), {"key"});
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    ASSERT_EQ(got.rows, 2500u);
    for (size_t r = 0; r < 2500; ++r) {
      const double p = static_cast<double>(r % 100) / 100.0;
      EXPECT_EQ(got.values[2 * r], static_cast<float>(1 - p));
      EXPECT_EQ(got.values[2 * r + 1], p < 0.5 ? 7.0f : 3.0f);
      EXPECT_EQ(got.kept_text[r], r % 3 == 0 ? "<null>" : "k" + std::to_string(r));
    }
  }
}

// A classifier's labels-only output (ResultFormatter::labels_only: predict
// then computes no probabilities) never reads PredictionRows::values: the
// same bytes without them, kept columns or not.
TEST(Parquet, LabelsOnlyOutputsNeedNoValues) {
  for (bool with_kept : {false, true}) {
    ResultLayout l;
    l.format = ResultFormat::kParquet;
    l.classifier = true;
    l.labels = {"3", "7"};
    l.labels_are_integers = true;
    l.n_values = 2;
    if (with_kept) l.kept = {{"id", KeptType::kText}};
    auto fmt = ResultFormatter::Create(l);
    ASSERT_TRUE(fmt.ok()) << fmt.status().ToString();
    ASSERT_TRUE(fmt->labels_only());
    auto write = [&](bool values) {
      auto mem = std::make_shared<MemoryStorage>();
      auto w = ParquetResultWriter::Create(*fmt, Compression::kSnappy, 1000);
      EXPECT_TRUE(w.ok());
      ResultSink sink(mem->OpenWrite("mem://l.parquet").value());
      EXPECT_TRUE(w->Begin(&sink).ok());
      const size_t n = 2500;
      std::vector<double> v(2 * n, 0.5);
      std::vector<int32_t> labels(n);
      std::vector<KeptValues> kept(l.kept.size());
      for (size_t r = 0; r < n; ++r) {
        labels[r] = static_cast<int32_t>(r % 3 == 0);
        if (with_kept) kept[0].AddText(std::to_string(r));
      }
      PredictionRows pr{n, 2, values ? v.data() : nullptr, labels.data()};
      EXPECT_TRUE(w->Append(pr, kept, &sink).ok());
      EXPECT_TRUE(w->Finish(&sink).ok());
      EXPECT_TRUE(sink.Commit().ok());
      return *mem->Get("mem://l.parquet");
    };
    EXPECT_EQ(write(false), write(true)) << "kept " << with_kept;
  }
}

TEST(Parquet, ReadsOnlyTheNeededColumnChunks) {
  auto mem = std::make_shared<MemoryStorage>();
  const std::string file = MakeFile(mem.get(), "mem://wide.parquet", 3000, 1500, Compression::kNone, 30);
  Read got = ReadBack(mem, "mem://wide.parquet", Features({"proba_3"}), {"id"});
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.kept_text[2999], "2999");
  // 30 text columns of 40 bytes a row are never fetched.
  EXPECT_LT(mem->range_bytes(), file.size() / 10) << mem->range_bytes() << " of " << file.size();
}

// A kept column that is also a feature is both (reading it used to skip the
// kept values of a column without nulls and crash in the writer).
TEST(Parquet, AKeptFeatureColumnIsBoth) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 2500, 1000);
  CsvOptions opt;
  opt.keep_columns = {"prediction", "proba_7"};
  auto r = ParquetReader::Open(mem, "mem://a.parquet", opt, Features({"proba_7", "prediction"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  TableChunk chunk;
  TableBlock block;
  size_t row = 0;
  while (*(*r)->NextChunk(&chunk)) {
    (*r)->Parse(chunk, &block);
    ASSERT_TRUE((*r)->Account(block).ok());
    ASSERT_EQ(block.kept.size(), 2u);
    ASSERT_EQ(block.kept[0].ints.size(), block.rows);
    ASSERT_EQ(block.kept[1].doubles.size(), block.rows);
    for (size_t i = 0; i < block.rows; ++i, ++row) {
      const double p = static_cast<double>(row % 100) / 100.0;
      EXPECT_EQ(block.kept[0].ints[i], p < 0.5 ? 7 : 3);
      EXPECT_EQ(block.kept[1].doubles[i], 1 - p);
      EXPECT_EQ(block.values[2 * i], static_cast<float>(1 - p));
      EXPECT_EQ(block.values[2 * i + 1], p < 0.5 ? 7.0f : 3.0f);
    }
  }
  EXPECT_EQ(row, 2500u);
}

TEST(Parquet, ColumnsAreMatchedAsCsvHeadersAre) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 10, 10);
  Read missing = ReadBack(mem, "mem://a.parquet", Features({"proba_7", "nope"}));
  EXPECT_EQ(missing.status.code(), StatusCode::kInvalidData);
  EXPECT_NE(missing.status.message().find("lacks 1 of the model's 2 features: nope"), std::string::npos)
      << missing.status.ToString();
  Read keep = ReadBack(mem, "mem://a.parquet", Features({"proba_7"}), {"nope"});
  EXPECT_NE(keep.status.message().find("--keep-columns: no column 'nope'"), std::string::npos)
      << keep.status.ToString();
  // A model without feature names: every column not kept is a feature, in order.
  CsvSchema positional;
  positional.n_features = 3;
  Read pos = ReadBack(mem, "mem://a.parquet", positional, {"id", "key"});
  ASSERT_TRUE(pos.status.ok()) << pos.status.ToString();
  EXPECT_EQ(pos.values[0], 7.0f);  // prediction, then proba_3, proba_7
}

TEST(Parquet, NullsAreMissingOrTheModelsError) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 10, 10);
  CsvSchema s = Features({"key"});
  Read as_nan = ReadBack(mem, "mem://a.parquet", s);
  // key holds text: "k1" is not a number; the first row (null) is NaN.
  EXPECT_EQ(as_nan.status.code(), StatusCode::kInvalidData);
  EXPECT_NE(as_nan.status.message().find("not a number: 'k1'"), std::string::npos)
      << as_nan.status.ToString();
  EXPECT_EQ(as_nan.status.line(), 2u);  // the row
  CsvOptions strict;
  strict.missing_is_error = true;
  Read err = ReadBack(mem, "mem://a.parquet", s, {}, strict);
  EXPECT_NE(err.status.message().find("Input X contains NaN"), std::string::npos) << err.status.ToString();
  EXPECT_EQ(err.status.line(), 1u);
}

// A row group is handed out in slices of about chunk_bytes of features that
// share one decode: slices parsed out of order, on two threads at once, give
// the rows of a whole-group read; errors keep their row.
TEST(Parquet, RowGroupsAreReadInSlicesThatShareOneDecode) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 2500, 1000, Compression::kZstd);
  const CsvSchema schema = Features({"proba_7", "prediction"});
  CsvOptions opt;
  opt.keep_columns = {"key"};
  opt.chunk_bytes = 100 * 2 * sizeof(float);  // 100 rows a slice
  auto r = ParquetReader::Open(mem, "mem://a.parquet", opt, schema);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<TableChunk> chunks;
  ASSERT_NO_FATAL_FAILURE(AllChunks(r->get(), &chunks));
  ASSERT_EQ(chunks.size(), 10u + 10u + 5u);
  EXPECT_TRUE((*r)->at_end());
  std::vector<TableBlock> blocks = ParseOnTwoThreadsBackwards(r->get(), chunks);
  size_t row = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_TRUE((*r)->Account(blocks[i]).ok()) << blocks[i].error.ToString();
    ASSERT_EQ(blocks[i].rows, 100u);
    for (size_t k = 0; k < blocks[i].rows; ++k, ++row) {
      const double p = static_cast<double>(row % 100) / 100.0;
      EXPECT_EQ(blocks[i].values[2 * k], static_cast<float>(1 - p));
      EXPECT_EQ(blocks[i].values[2 * k + 1], p < 0.5 ? 7.0f : 3.0f);
      const KeptValues& key = blocks[i].kept[0];
      ASSERT_EQ(key.valid.size(), blocks[i].rows);
      EXPECT_EQ(key.valid[k] ? std::string(key.TextAt(k)) : "<null>",
                row % 3 == 0 ? "<null>" : "k" + std::to_string(row));
    }
  }
  EXPECT_EQ(row, 2500u);
  EXPECT_EQ((*r)->rows_accounted(), 2500u);
  chunks.clear();
  // The same file through ReadBack, as slices and as whole groups.
  CsvOptions small;
  small.chunk_bytes = 64 * sizeof(float);
  Read sliced = ReadBack(mem, "mem://a.parquet", schema, {"key"}, small);
  Read whole = ReadBack(mem, "mem://a.parquet", schema, {"key"});
  ASSERT_TRUE(sliced.status.ok() && whole.status.ok());
  EXPECT_EQ(sliced.values, whole.values);
  EXPECT_EQ(sliced.kept_text, whole.kept_text);
  // Four features in the file's column order (transposed four columns at a
  // time) and in reverse (one at a time), in slices of 99 rows (tiles of 64
  // and 35 rows: a remainder of 3): every row's values where they belong.
  for (bool reversed : {false, true}) {
    std::vector<std::string> names = {"id", "prediction", "proba_3", "proba_7"};
    if (reversed) std::reverse(names.begin(), names.end());
    CsvOptions o;
    o.chunk_bytes = 99 * 4 * sizeof(float);
    Read got = ReadBack(mem, "mem://a.parquet", Features(names), {}, o);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    ASSERT_EQ(got.values.size(), 4u * 2500u);
    for (size_t i = 0; i < 2500; ++i) {
      const double p = static_cast<double>(i % 100) / 100.0;
      const float want[4] = {static_cast<float>(i), p < 0.5 ? 7.0f : 3.0f, static_cast<float>(p),
                             static_cast<float>(1 - p)};
      for (size_t f = 0; f < 4; ++f)
        EXPECT_EQ(got.values[4 * i + f], want[reversed ? 3 - f : f]) << i << " " << f;
    }
  }
  // An error's row is the file's, whichever slice meets it.
  small.missing_is_error = true;
  Read err = ReadBack(mem, "mem://a.parquet", Features({"key"}), {}, small);
  EXPECT_NE(err.status.message().find("Input X contains NaN"), std::string::npos) << err.status.ToString();
  EXPECT_NE(err.status.message().find("row group 0"), std::string::npos) << err.status.ToString();
  EXPECT_EQ(err.status.line(), 1u);
}

// A file written by hand as DuckDB, parquet-mr and pyarrow write theirs:
// dictionary pages, then data pages of RLE_DICTIONARY indices in the
// RLE / bit-packed hybrid (runs of 8+ equal indices as RLE runs, the rest
// bit-packed, up to two groups a run, the last one padded), several pages a
// column chunk, a chunk falling back to PLAIN pages, nulls in one chunk.
// Columns: a (INT64, 5 values: 3-bit indices; zstd), b (INT32, PLAIN;
// uncompressed), c (DOUBLE, optional, 200 values: 8-bit indices; nulls in
// row group 1 only; snappy), d (INT64, 300 values: 9-bit indices, the last
// page of each chunk PLAIN; zstd). Row groups of 1000 and 537 rows.
struct HandFile {
  std::string bytes;
  std::vector<float> want;  // rows x 4 (a, b, c, d), NaN for a null
};

void PutVarint(std::string* s, uint64_t v) {
  for (; v >= 0x80; v >>= 7) s->push_back(static_cast<char>(v | 0x80));
  s->push_back(static_cast<char>(v));
}

std::string HybridStream(const std::vector<uint32_t>& idx, int bw) {
  std::string s;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && idx[j] == idx[i]) ++j;
    if (j - i >= 8) {
      PutVarint(&s, (j - i) << 1);
      for (int b = 0; b < (bw + 7) / 8; ++b) s.push_back(static_cast<char>(idx[i] >> (8 * b)));
      i = j;
      continue;
    }
    const size_t n = std::min<size_t>(16, idx.size() - i), groups = (n + 7) / 8;
    PutVarint(&s, (groups << 1) | 1);
    std::string bits(groups * static_cast<size_t>(bw), '\0');
    for (size_t k = 0; k < n; ++k)
      for (int b = 0; b < bw; ++b)
        if ((idx[i + k] >> b) & 1) {
          const size_t at = k * static_cast<size_t>(bw) + static_cast<size_t>(b);
          bits[at >> 3] = static_cast<char>(bits[at >> 3] | (1 << (at & 7)));
        }
    s += bits;
    i += n;
  }
  return s;
}

// bad_row >= 0: column a's index at that row of row group 0 is 5 (past its
// dictionary); bad_run: rows 120-159 (an RLE run) hold index 7 instead.
// Statistics (null counts): kNone states none; kTrue the true ones (column c
// of row group 1: 108 nulls, every other chunk 0); kFalse false ones
// (column c: 7 in row group 0 and 0 in row group 1; column a: 3).
// claimed_rows >= 0: the footer's row count of row group 0 (a lie).
enum class Stats { kNone, kTrue, kFalse };
HandFile MakeHandFile(int bad_row = -1, bool bad_run = false, Stats stats = Stats::kNone,
                      int64_t claimed_rows = -1) {
  using parquet::PhysicalType;
  HandFile f;
  f.bytes = "PAR1";
  const std::vector<int64_t> dict_a = {-3, 10, 7, 1000000007, 2};
  std::vector<double> dict_c;
  for (int k = 0; k < 200; ++k) dict_c.push_back(k * 0.25 - 7.5);
  std::vector<int64_t> dict_d;
  for (int k = 0; k < 300; ++k) dict_d.push_back(k * 1000 - 3);
  std::vector<parquet::WriteColumn> schema(4);
  schema[0] = {"a", PhysicalType::kInt64};
  schema[1] = {"b", PhysicalType::kInt32};
  schema[2] = {"c", PhysicalType::kDouble, true};
  schema[3] = {"d", PhysicalType::kInt64};
  std::vector<parquet::WriteRowGroup> groups;
  int64_t first = 0;
  auto fval = [](double v) { return static_cast<float>(v); };
  for (int64_t rows : {1000, 537}) {
    const size_t g = groups.size();
    parquet::WriteRowGroup rg;
    rg.num_rows = rows;
    std::vector<std::vector<float>> cols(4, std::vector<float>(static_cast<size_t>(rows)));
    for (int col = 0; col < 4; ++col) {
      const Compression codec = col == 1   ? Compression::kNone
                                : col == 2 ? Compression::kSnappy
                                           : Compression::kZstd;
      parquet::WriteChunk chunk;
      chunk.codec = col == 1 ? 0 : col == 2 ? 1 : 6;
      chunk.num_values = rows;
      chunk.offset = static_cast<int64_t>(f.bytes.size());
      chunk.encodings = col == 1 ? std::vector<int32_t>{0} : std::vector<int32_t>{0, 3, 8};
      if (stats == Stats::kTrue) chunk.null_count = col == 2 && g == 1 ? (rows + 4) / 5 : 0;
      if (stats == Stats::kFalse) chunk.null_count = col == 2 ? (g == 0 ? 7 : 0) : col == 0 ? 3 : 0;
      auto put_page = [&](const std::string& page, bool dict_page, int32_t n, int32_t encoding) {
        auto packed = Compress(page, codec);
        ASSERT_TRUE(packed.ok());
        std::string header;
        if (dict_page) {
          thrift::CompactWriter w;
          w.BeginStruct();
          w.FieldI32(1, 2);
          w.FieldI32(2, static_cast<int32_t>(page.size()));
          w.FieldI32(3, static_cast<int32_t>(packed->size()));
          w.FieldStructBegin(7);
          w.FieldI32(1, n);
          w.FieldI32(2, 0);
          w.EndStruct();
          w.EndStruct();
          header = w.bytes();
        } else {
          header = parquet::SerializeDataPageHeader(static_cast<int32_t>(page.size()),
                                                    static_cast<int32_t>(packed->size()), n, encoding);
        }
        f.bytes += header + *packed;
        chunk.compressed += static_cast<int64_t>(header.size() + packed->size());
        chunk.uncompressed += static_cast<int64_t>(header.size() + page.size());
      };
      std::string dict;
      if (col == 0)
        for (int64_t v : dict_a) PutLe(&dict, v);
      if (col == 2)
        for (double v : dict_c) PutLe(&dict, v);
      if (col == 3)
        for (int64_t v : dict_d) PutLe(&dict, v);
      if (col != 1) put_page(dict, true, col == 0 ? 5 : col == 2 ? 200 : 300, 0);
      const int64_t page_rows = col == 0 ? 300 : col == 1 ? 256 : col == 2 ? 333 : 150;
      for (int64_t p0 = 0; p0 < rows; p0 += page_rows) {
        const int64_t n = std::min(page_rows, rows - p0);
        std::string page;
        if (col == 1) {
          for (int64_t r = p0; r < p0 + n; ++r) {
            const int32_t v = static_cast<int32_t>((first + r) * 3 - 500);
            PutLe(&page, v);
            cols[1][static_cast<size_t>(r)] = fval(v);
          }
          put_page(page, false, static_cast<int32_t>(n), 0);
          continue;
        }
        if (col == 3 && p0 + n == rows) {  // the chunk's last page: PLAIN
          for (int64_t r = p0; r < p0 + n; ++r) {
            const int64_t v = (first + r) * -77;
            PutLe(&page, v);
            cols[3][static_cast<size_t>(r)] = fval(static_cast<double>(v));
          }
          put_page(page, false, static_cast<int32_t>(n), 0);
          continue;
        }
        std::vector<uint32_t> idx;
        std::vector<uint32_t> levels;
        for (int64_t r = p0; r < p0 + n; ++r) {
          const size_t i = static_cast<size_t>(r);
          const int64_t x = first + r;
          if (col == 0) {
            uint32_t k = (x / 40) % 3 == 0 ? 4 : static_cast<uint32_t>((x * 7 + x / 5) % 5);
            if (g == 0 && r == bad_row) k = 5;
            if (g == 0 && bad_run && r >= 120 && r < 160) k = 7;
            idx.push_back(k);
            cols[0][i] = k < 5 ? fval(static_cast<double>(dict_a[k])) : 0.0f;
          } else if (col == 2) {
            const bool null = g == 1 && x % 5 == 0;
            levels.push_back(null ? 0 : 1);
            if (null) {
              cols[2][i] = std::numeric_limits<float>::quiet_NaN();
              continue;
            }
            const uint32_t k = (x / 30) % 4 == 0 ? 199 : static_cast<uint32_t>((x * 13 + x / 9) % 200);
            idx.push_back(k);
            cols[2][i] = fval(dict_c[k]);
          } else {
            const uint32_t k = (x / 50) % 3 == 0 ? 299 : static_cast<uint32_t>((x * 31 + x / 17) % 300);
            idx.push_back(k);
            cols[3][i] = fval(static_cast<double>(dict_d[k]));
          }
        }
        if (col == 2) {
          const std::string lv = HybridStream(levels, 1);
          PutLe(&page, static_cast<uint32_t>(lv.size()));
          page += lv;
        }
        const int bw = col == 0 ? 3 : col == 2 ? 8 : 9;
        page.push_back(static_cast<char>(bw));
        page += HybridStream(idx, bw);
        put_page(page, false, static_cast<int32_t>(n), 8);
      }
      rg.total_byte_size += chunk.uncompressed;
      rg.columns.push_back(chunk);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int col = 0; col < 4; ++col)
        f.want.push_back(cols[static_cast<size_t>(col)][static_cast<size_t>(r)]);
    groups.push_back(rg);
    first += rows;
  }
  if (claimed_rows >= 0) {  // row group 0's footer claims that many rows (its pages hold 1000)
    first += claimed_rows - groups[0].num_rows;
    groups[0].num_rows = claimed_rows;
  }
  const std::string footer = parquet::SerializeFileMeta(schema, groups, first, "hand");
  f.bytes += footer;
  PutLe(&f.bytes, static_cast<uint32_t>(footer.size()));
  f.bytes += "PAR1";
  return f;
}

bool SameFloats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Slices decode their own rows of each column (from marks of where each
// slice's rows start in the index streams, within RLE runs, bit-packed
// groups and pages), on two threads at once, backwards: every value where it
// belongs, for slices of 64 and 99 rows and a whole row group; the chunk
// with nulls through the whole column decoder; an index past the dictionary
// is the error of the slice holding it.
// A row group's decoded columns are sized for the whole group and mostly
// left unwritten: they are mappings of their own (MappedVector), never
// malloc's heap, whose huge-page reservation (ReserveHugePageHeap) they used
// to take from the blocks and kernel scratch allocated after them (the seed
// file as Parquet: 1,300 page faults for a predict, 360 with this).
TEST(Parquet, ARowGroupsBuffersAreNotTakenFromTheHeap) {
  auto mem = std::make_shared<MemoryStorage>();
  constexpr size_t kRows = 400000;  // three float columns: 4.8 MB of floats
  MakeFile(mem.get(), "mem://big.parquet", kRows, kRows, Compression::kZstd);
  const CsvSchema schema = Features({"proba_3", "proba_7", "prediction"});
  auto r = ParquetReader::Open(mem, "mem://big.parquet", CsvOptions{}, schema);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const struct mallinfo2 before = mallinfo2();
  TableChunk chunk;
  auto got = (*r)->NextChunk(&chunk);  // reads the row group, sizes its buffers
  ASSERT_TRUE(got.ok() && *got) << got.status().ToString();
  const struct mallinfo2 after = mallinfo2();
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // (A sanitizer's allocator keeps no glibc statistics, and MapBuffer hands
  // its requests to operator new there.)
  const size_t heap = (after.uordblks + after.hblkhd) -
                      std::min(after.uordblks + after.hblkhd, before.uordblks + before.hblkhd);
  EXPECT_LT(heap, size_t{2} << 20) << "the row group's buffers came from malloc";
#else
  (void)before, (void)after;
#endif
  // Every row read back right, slice after slice.
  size_t row = 0;
  TableBlock block;
  for (bool more = true; more;) {
    (*r)->Parse(chunk, &block);
    ASSERT_TRUE((*r)->Account(block).ok()) << block.error.ToString();
    for (size_t k = 0; k < block.rows; ++k, ++row) {
      const double p = static_cast<double>(row % 100) / 100.0;
      ASSERT_EQ(block.values[3 * k], static_cast<float>(p)) << row;
      ASSERT_EQ(block.values[3 * k + 1], static_cast<float>(1 - p)) << row;
      ASSERT_EQ(block.values[3 * k + 2], p < 0.5 ? 7.0f : 3.0f) << row;
    }
    auto next = (*r)->NextChunk(&chunk);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    more = *next;
  }
  EXPECT_EQ(row, kRows);
}

TEST(Parquet, SlicesDecodeTheirOwnRowsFromMarks) {
  auto mem = std::make_shared<MemoryStorage>();
  const CsvSchema schema = Features({"a", "b", "c", "d"});
  // The chunks' statistics, true or false, change nothing but which decoder
  // reads a column (one stating nulls: the whole column decoder).
  for (Stats stats : {Stats::kNone, Stats::kTrue, Stats::kFalse})
    for (size_t slice_rows : {64, 99, 100000}) {
      SCOPED_TRACE(static_cast<int>(stats));
      SCOPED_TRACE(slice_rows);
      const HandFile f = MakeHandFile(-1, false, stats);
      mem->Put("mem://h.parquet", f.bytes);
      if (slice_rows == 64) {
        // The footer's statistics as written.
        uint32_t len;
        std::memcpy(&len, f.bytes.data() + f.bytes.size() - 8, 4);
        auto meta = parquet::ParseFileMeta(std::string_view(f.bytes).substr(f.bytes.size() - 8 - len, len),
                                           f.bytes.size() - 8 - len);
        ASSERT_TRUE(meta.ok()) << meta.status().ToString();
        ASSERT_EQ(meta->row_groups.size(), 2u);
        const int64_t c0 = meta->row_groups[0].columns[2].null_count,
                      c1 = meta->row_groups[1].columns[2].null_count;
        EXPECT_EQ(c0, stats == Stats::kNone ? -1 : stats == Stats::kTrue ? 0 : 7);
        EXPECT_EQ(c1, stats == Stats::kNone ? -1 : stats == Stats::kTrue ? 108 : 0);
      }
      CsvOptions opt;
      opt.chunk_bytes = slice_rows * 4 * sizeof(float);
      auto r = ParquetReader::Open(mem, "mem://h.parquet", opt, schema);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::vector<TableChunk> chunks;
      ASSERT_NO_FATAL_FAILURE(AllChunks(r->get(), &chunks));
      std::vector<TableBlock> blocks = ParseOnTwoThreadsBackwards(r->get(), chunks);
      chunks.clear();
      std::vector<float> got;
      for (TableBlock& b : blocks) {
        ASSERT_TRUE((*r)->Account(b).ok()) << b.error.ToString();
        got.insert(got.end(), b.values.begin(), b.values.begin() + b.rows * 4);
      }
      ASSERT_EQ(got.size(), f.want.size());
      EXPECT_TRUE(SameFloats(got, f.want));
      for (size_t i = 0; i < got.size(); ++i) {
        const bool same = std::isnan(f.want[i]) ? std::isnan(got[i]) : got[i] == f.want[i];
        if (!same) {
          ADD_FAILURE() << "row " << i / 4 << " column "
                        << "abcd"[i % 4] << ": " << got[i] << ", want " << f.want[i];
          break;
        }
      }
    }
  // Column a's index 5 at row 700 (a bit-packed run), or 7 in an RLE run of
  // rows 120-159: the error of the slice holding it.
  for (bool run : {false, true}) {
    mem->Put("mem://bad.parquet", MakeHandFile(run ? -1 : 700, run).bytes);
    CsvOptions opt;
    opt.chunk_bytes = 64 * 4 * sizeof(float);
    auto r = ParquetReader::Open(mem, "mem://bad.parquet", opt, schema);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    TableChunk chunk;
    TableBlock block;
    size_t good_rows = 0;
    Status st;
    for (;;) {
      auto got = (*r)->NextChunk(&chunk);
      ASSERT_TRUE(got.ok());
      ASSERT_TRUE(*got) << "no error";
      (*r)->Parse(chunk, &block);
      st = (*r)->Account(block);
      if (!st.ok()) break;
      good_rows += block.rows;
    }
    EXPECT_EQ(good_rows, run ? 64u : 640u) << st.ToString();
    EXPECT_NE(st.message().find("row group 0, column 'a'"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find(run ? "dictionary index 7 past the dictionary's 5 values"
                                    : "dictionary index 5 past the dictionary's 5 values"),
              std::string::npos)
        << st.ToString();
  }
}

// A footer whose row group claims more rows than its pages hold, up to the
// format's bound (2^40): an error naming the file and the row group; never an
// allocation failure, a crash or rows made up.
TEST(Parquet, ARowGroupClaimingMoreRowsThanItHoldsIsAnError) {
  auto mem = std::make_shared<MemoryStorage>();
  const CsvSchema schema = Features({"a", "b", "c", "d"});
  for (int64_t claim : {int64_t{1001}, int64_t{1} << 20, int64_t{1} << 34, int64_t{1} << 40}) {
    mem->Put("mem://liar.parquet", MakeHandFile(-1, false, Stats::kNone, claim).bytes);
    Status st;
    size_t rows = 0;
    auto r = ParquetReader::Open(mem, "mem://liar.parquet", CsvOptions{}, schema);
    if (!r.ok()) {
      st = r.status();
    } else {
      TableChunk chunk;
      TableBlock block;
      for (;;) {
        auto got = (*r)->NextChunk(&chunk);
        if (!got.ok()) {
          st = got.status();
          break;
        }
        if (!*got) break;
        (*r)->Parse(chunk, &block);
        st = (*r)->Account(block);
        if (!st.ok()) break;
        rows += block.rows;
      }
    }
    ASSERT_FALSE(st.ok()) << claim << ": " << rows << " rows read";
    // Past 4 GiB of features a row group is refused as too big (kUnsupported)
    // before its pages are read; below, its pages contradict the footer.
    EXPECT_EQ(st.code(), claim > (int64_t{1} << 28) ? StatusCode::kUnsupported : StatusCode::kInvalidData)
        << st.ToString();
    EXPECT_NE(st.ToString().find("mem://liar.parquet"), std::string::npos) << st.ToString();
    EXPECT_NE(st.ToString().find("row group 0"), std::string::npos) << st.ToString();
  }
}

// A model comparing float64 inputs (HistGradientBoosting): each double or
// integer column value becomes its float64 map's value (common/float64_features.h),
// in the fast column loop and in the per-value loop alike.
TEST(Parquet, Float64InputMapsApplyToDoubleAndIntegerColumns) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 2500, 1000);
  CsvSchema s = Features({"proba_7", "prediction"});
  s.float64_features.resize(2);
  s.float64_features[0].cuts = {0.25, 0.5, 0.74};
  s.float64_features[1] = Float64Feature{true, {}, {3}};  // 7 is an unknown category: missing
  Read got = ReadBack(mem, "mem://a.parquet", s);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.rows, 2500u);
  for (size_t r = 0; r < 2500; ++r) {
    const double p = static_cast<double>(r % 100) / 100.0, v = 1 - p;
    const float below = static_cast<float>((0.25 < v) + (0.5 < v) + (0.74 < v));
    EXPECT_EQ(got.values[2 * r], below) << r;
    if (p < 0.5) {
      EXPECT_TRUE(std::isnan(got.values[2 * r + 1])) << r;
    } else {
      EXPECT_EQ(got.values[2 * r + 1], 3.0f) << r;
    }
  }
}

TEST(Parquet, StorageFaultsAreErrorsNeverShortData) {
  auto mem = std::make_shared<MemoryStorage>();
  MakeFile(mem.get(), "mem://a.parquet", 2000, 500);
  auto faulty = std::make_shared<FaultInjectingStorage>(mem);
  for (int nth = 1; nth <= 4; ++nth) {
    faulty->ClearRules();
    FaultRule rule;
    rule.op = StorageOp::kRead;
    rule.nth = nth;
    faulty->AddRule(rule);
    Read got = ReadBack(faulty, "mem://a.parquet", Features({"proba_7"}));
    EXPECT_EQ(got.status.code(), StatusCode::kIoError) << nth << ": " << got.status.ToString();
    faulty->ClearRules();
    rule.truncate = true;
    rule.after_bytes = 100;
    faulty->AddRule(rule);
    got = ReadBack(faulty, "mem://a.parquet", Features({"proba_7"}));
    EXPECT_EQ(got.status.code(), StatusCode::kInvalidData) << nth << ": " << got.status.ToString();
  }
}

// A local Parquet file is read range by range, each by its own open: one
// that changed after it was opened (replaced by a rename, grown) is an error
// naming it once read; one left alone is not.
TEST(Parquet, ALocalFileThatChangedWhileReadIsAnError) {
  auto mem = std::make_shared<MemoryStorage>();
  const std::string bytes = MakeFile(mem.get(), "mem://a.parquet", 2000, 500);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fb_pq_change_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "a.parquet").string();
  auto local = LocalStorage();
  for (int change = 0; change < 3; ++change) {
    ASSERT_TRUE(local->WriteAll(path, bytes).ok());
    const struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), past, 0), 0);
    auto r = ParquetReader::Open(local, path, CsvOptions{}, Features({"proba_7"}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<TableChunk> chunks;
    AllChunks(r->get(), &chunks);
    ASSERT_FALSE(chunks.empty());
    if (change == 1) {
      ASSERT_TRUE(local->WriteAll(path, bytes).ok());  // the same bytes, a new file
    }
    if (change == 2) std::ofstream(path, std::ios::app | std::ios::binary) << "PAR1";
    const Status st = (*r)->CheckUnchanged();
    if (change == 0) {
      EXPECT_TRUE(st.ok()) << st.ToString();
    } else {
      EXPECT_EQ(st.code(), StatusCode::kIoError) << change << ": " << st.ToString();
      EXPECT_EQ(st.path(), path) << st.ToString();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Parquet, HostileBytesGiveErrorsNotCrashes) {
  auto mem = std::make_shared<MemoryStorage>();
  const std::string good = MakeFile(mem.get(), "mem://a.parquet", 300, 100, Compression::kSnappy);
  std::mt19937 rng(42);
  int errors = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string bad = good;
    if (i < 200) {
      bad.resize(rng() % good.size());  // truncated
      bad += "PAR1";
    } else {
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    mem->Put("mem://bad.parquet", bad);
    Read got = ReadBack(mem, "mem://bad.parquet", Features({"proba_7", "prediction"}), {"key"});
    if (!got.status.ok()) {
      ++errors;
      EXPECT_NE(got.status.code(), StatusCode::kInternal) << got.status.ToString();
    }
  }
  EXPECT_GT(errors, 200);
}

TEST(Parquet, NamesAndMagic) {
  EXPECT_TRUE(IsParquetName("a/b.parquet"));
  EXPECT_TRUE(IsParquetName("part-0.snappy.PARQUET"));
  EXPECT_FALSE(IsParquetName("a.csv"));
  EXPECT_TRUE(HasParquetMagic("PAR1xyz"));
}

TEST(ThriftCompact, BoundsEveryLengthAndDepth) {
  using thrift::CompactReader;
  // A list that claims more elements than there are bytes.
  const char list[] = {static_cast<char>(0x19), static_cast<char>(0xf5), static_cast<char>(0xff),
                       static_cast<char>(0xff), 0x0f};
  CompactReader r1(list, sizeof list);
  Status s1 = r1.Struct([&](int16_t, uint8_t t) { return r1.Skip(t); });
  EXPECT_EQ(s1.code(), StatusCode::kInvalidData) << s1.ToString();
  // Structs nested 100 deep.
  std::string deep(100, static_cast<char>(0x1c));
  deep += std::string(101, '\0');
  CompactReader r2(deep.data(), deep.size());
  Status s2 = r2.Struct([&](int16_t, uint8_t t) { return r2.Skip(t); });
  EXPECT_NE(s2.message().find("nested too deeply"), std::string::npos) << s2.ToString();
  // A varint that never ends.
  std::string v = {0x15};
  v += std::string(20, static_cast<char>(0xff));
  CompactReader r3(v.data(), v.size());
  Status s3 = r3.Struct([&](int16_t, uint8_t t) { return r3.Skip(t); });
  EXPECT_EQ(s3.code(), StatusCode::kInvalidData);
  // Writer and reader agree.
  thrift::CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, -5);
  w.FieldI64(20, int64_t{1} << 40);
  w.FieldBinary(21, "abc");
  w.FieldBool(22, true);
  w.EndStruct();
  CompactReader r4(w.bytes().data(), w.bytes().size());
  int32_t a = 0;
  int64_t b = 0;
  std::string c;
  bool d = false;
  ASSERT_TRUE(r4.Struct([&](int16_t id, uint8_t t) -> Status {
                  if (id == 1) a = *r4.I32(t);
                  if (id == 20) b = *r4.I64(t);
                  if (id == 21) c = *r4.Binary(t);
                  if (id == 22) d = *r4.Bool(t);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(a, -5);
  EXPECT_EQ(b, int64_t{1} << 40);
  EXPECT_EQ(c, "abc");
  EXPECT_TRUE(d);
}

TEST(ColumnMap, KeptColumnsByNameOrPosition) {
  CsvSchema s;
  s.n_features = 2;
  auto m = MapColumns({"id", "a", "b"}, true, s, {"id"}, ',', "f", 1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->col_to_feature, (std::vector<int32_t>{kIgnoredColumn, 0, 1}));
  EXPECT_EQ(m->kept, std::vector<int32_t>{0});
  auto p = MapColumns({"", "", ""}, false, s, {"3"}, ',', "f", 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->col_to_feature, (std::vector<int32_t>{0, 1, kIgnoredColumn}));
  EXPECT_EQ(p->kept_names, std::vector<std::string>{"column_3"});
  auto bad = MapColumns({"", "", ""}, false, s, {"id"}, ',', "f", 1);
  EXPECT_NE(bad.status().message().find("1-based position"), std::string::npos);
  auto count = MapColumns({"id", "a", "b", "c"}, true, s, {"id"}, ',', "f", 1);
  EXPECT_NE(count.status().message().find("3 columns besides the 1 kept"), std::string::npos)
      << count.status().ToString();
}

// Replays the fuzz corpus (seeds written by DuckDB and arrow-rs, plus any
// input that once failed): nothing may crash (the ASan run checks memory);
// the seeds (*.parquet) must be read whole.
TEST(Parquet, FuzzCorpusRegression) {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/parquet"))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u);
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Status st = ParquetFuzzOne(ss.str());
    if (path.ends_with(".parquet")) {
      EXPECT_TRUE(st.ok()) << path << ": " << st.ToString();
    }
  }
}

}  // namespace
}  // namespace fb
