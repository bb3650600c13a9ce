// Parquet: the writer read back by the reader (in memory, through Storage),
// ranged reads of only the needed columns, storage faults, hostile bytes.
// Interoperability with DuckDB and arrow-rs: tests/parquet/run_interop.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

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
  for (;;) {
    TableChunk c;
    auto got = (*r)->NextChunk(&c);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (!*got) break;
    chunks.push_back(std::move(c));
  }
  ASSERT_EQ(chunks.size(), 10u + 10u + 5u);
  EXPECT_TRUE((*r)->at_end());
  std::vector<TableBlock> blocks(chunks.size());
  // Backwards, odd and even slices on two threads: a group's later slices
  // reach it first, and both threads decode it together.
  auto parse = [&](size_t parity) {
    for (size_t i = chunks.size(); i-- > 0;)
      if (i % 2 == parity) (*r)->Parse(chunks[i], &blocks[i]);
  };
  std::thread other(parse, 1);
  parse(0);
  other.join();
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
