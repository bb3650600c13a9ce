#include "io/csv_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "io/csv_text.h"
#include "io/test_streams.h"

namespace fb {
namespace {

using testing::StringReadStream;

struct ReadOut {
  Status status;
  std::vector<float> values;  // rows x n_features
  uint64_t rows = 0;
  bool header = false;
  size_t peak = 0;
};

CsvSchema Schema(int n, std::vector<std::string> names = {}) {
  CsvSchema s;
  s.n_features = n;
  s.feature_names = std::move(names);
  return s;
}

// Reads everything through NextChunk / Parse / Account, in order.
ReadOut ReadAll(std::string text, const CsvSchema& schema, CsvOptions opt = {}, size_t step = SIZE_MAX) {
  ReadOut out;
  auto r = CsvReader::Open(std::make_unique<StringReadStream>(std::move(text), step), "in.csv", opt, schema);
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  out.header = (*r)->has_header();
  CsvChunk chunk;
  CsvBlock block;
  for (;;) {
    auto got = (*r)->NextChunk(&chunk);
    if (!got.ok()) {
      out.status = (*r)->Locate(got.status());
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
  }
  out.rows = (*r)->rows_accounted();
  out.peak = (*r)->peak_buffer_bytes();
  return out;
}

void ExpectError(const ReadOut& o, uint64_t line, uint64_t col, const std::string& fragment) {
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidData) << o.status.ToString();
  EXPECT_EQ(o.status.path(), "in.csv");
  EXPECT_EQ(o.status.line(), line) << o.status.ToString();
  EXPECT_EQ(o.status.column(), col) << o.status.ToString();
  EXPECT_NE(o.status.message().find(fragment), std::string::npos) << o.status.ToString();
}

TEST(CsvReaderTest, PlainIntegersAndDecimals) {
  auto o = ReadAll("1,2,3\n-4,0.5,1e3\n7,-0,+8\n", Schema(3));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_FALSE(o.header);
  EXPECT_EQ(o.rows, 3u);
  EXPECT_EQ(o.values, (std::vector<float>{1, 2, 3, -4, 0.5f, 1000, 7, 0, 8}));
  EXPECT_TRUE(std::signbit(o.values[7]));
}

// Runs of one-digit fields are parsed eight at a time: rows that end on an
// eight-field boundary, runs broken by longer fields, CRLF, rows with a
// field too many or too few, and rows near the end of the text (fewer than
// 16 bytes left) must read exactly as field-by-field parsing would.
TEST(CsvReaderTest, OneDigitRunsMatchFieldByField) {
  const int nc = 17;
  std::string text;
  std::vector<float> want;
  for (int r = 0; r < 40; ++r) {
    for (int c = 0; c < nc; ++c) {
      int v = (r * 7 + c * 3) % 10;
      if ((r + c) % 13 == 0) v = 10 + r;  // a two-digit field breaks the run
      if (c) text += ',';
      text += std::to_string(v);
      want.push_back(static_cast<float>(v));
    }
    text += r % 5 == 0 ? "\r\n" : "\n";
  }
  auto o = ReadAll(text, Schema(nc));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.rows, 40u);
  EXPECT_EQ(o.values, want);
  // Exactly eight fields a row, the last row without a line end.
  o = ReadAll("1,2,3,4,5,6,7,8\n0,0,0,0,0,0,0,9\n9,8,7,6,5,4,3,2", Schema(8));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values,
            (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 9, 9, 8, 7, 6, 5, 4, 3, 2}));
  o = ReadAll("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,9\n1,2,3,4,5,6,7,8\n", Schema(8));
  ExpectError(o, 2, 9, "more fields (9) than the first row (8)");
  o = ReadAll("1,2,3,4,5,6,7,8,9\n1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,9\n", Schema(9));
  ExpectError(o, 2, 9, "the row has 8 fields but the first row has 9");
  o = ReadAll("1,2,3,4,5,6,7,8,9\n1,2,3,4,5,6,7,x,9\n", Schema(9));
  ExpectError(o, 2, 8, "not a number: 'x' in column 8");
}

// Random texts against a field-by-field reference (the field unquoted and
// trimmed, a missing spelling as NaN, else strtod's correctly rounded double
// cast to float), bit for bit, with four delimiters: runs of one-digit fields of every length
// starting anywhere in a row, longer integers (leading zeros, signs, 1 to 7
// digits, 16 and more), decimals and exponents, NaN and infinity spellings, empty,
// quoted and padded fields, CRLF and LF, blank lines, any column count,
// small chunks and short reads; then one bad field or a row of the wrong
// length put in at random must fail at its line and column.
TEST(CsvReaderTest, RandomTextsReadAsFieldByField) {
  const char* const kOther[] = {"10",
                                "999",
                                "51",
                                "0007",
                                "1234567",
                                "-98765",
                                "-0",
                                "-5",
                                "+3",
                                "12345678901234",
                                "123456789012345678",
                                "0.5",
                                "-1.25",
                                "1e3",
                                "2E-2",
                                ".5",
                                "5.",
                                "3.4028235677973366e38",
                                "1e39",
                                "1e-46",
                                "",
                                "NA",
                                "nan",
                                "inf",
                                "-Infinity",
                                " 4",
                                "4 ",
                                "\"6\"",
                                "\"1.5\"",
                                "  7  "};
  const int n_other = sizeof(kOther) / sizeof(kOther[0]);
  auto reference = [](std::string_view t) {
    std::string u(t);
    if (!u.empty() && u.front() == '"') u = u.substr(1, u.size() - 2);
    std::string_view trimmed = TrimBlanks(u, '\0');
    if (trimmed.empty() || trimmed == "NA" || trimmed == "nan") return std::nanf("");
    return static_cast<float>(std::strtod(std::string(trimmed).c_str(), nullptr));
  };
  std::mt19937 rng(20261203);
  for (int iter = 0; iter < 300; ++iter) {
    const int nc = 1 + static_cast<int>(rng() % 40);
    const int rows = 1 + static_cast<int>(rng() % 60);
    const int other_per_mille = static_cast<int>(rng() % 400);  // how often a field is not one digit
    const char d = ",;|\t"[rng() % 4];
    std::string text;
    std::vector<float> want;
    for (int r = 0; r < rows; ++r) {
      if (rng() % 50 == 0) text += rng() % 2 ? "\n" : "\r\n";  // a blank line
      for (int c = 0; c < nc; ++c) {
        if (c) text += d;
        std::string f;
        if (static_cast<int>(rng() % 1000) < other_per_mille) {
          f = kOther[rng() % n_other];
          if (f.empty() && nc == 1) f = "NA";  // a one-column row of nothing is a blank line
        } else {
          f = std::to_string(rng() % 10);
        }
        text += f;
        want.push_back(reference(f));
      }
      text += rng() % 4 == 0 ? "\r\n" : "\n";
    }
    if (rng() % 3 == 0) text.pop_back();  // the last line end may be missing (a CRLF's '\n' alone: "\r")
    if (text.back() == '\r') text.pop_back();
    CsvOptions opt;
    opt.header = CsvHeader::kNo;
    opt.delimiter = d;
    opt.chunk_bytes = 64 + rng() % 600;
    const size_t step = rng() % 2 ? SIZE_MAX : 1 + rng() % 100;
    auto o = ReadAll(text, Schema(nc), opt, step);
    ASSERT_TRUE(o.status.ok()) << iter << ": " << o.status.ToString();
    ASSERT_EQ(o.rows, static_cast<uint64_t>(rows)) << iter;
    ASSERT_EQ(o.values.size(), want.size()) << iter;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(std::memcmp(&o.values[i], &want[i], sizeof(float)), 0)
          << iter << ": value " << i << " (row " << i / nc << ", column " << i % nc << ") is " << o.values[i]
          << ", want " << want[i];
    }
  }
  // One bad field, or one row a field short or long, in otherwise good text.
  for (int iter = 0; iter < 200; ++iter) {
    const int nc = 2 + static_cast<int>(rng() % 30);
    const int rows = 2 + static_cast<int>(rng() % 40);
    const int bad_row = 1 + static_cast<int>(rng() % (rows - 1)), bad_col = static_cast<int>(rng() % nc);
    const int kind = static_cast<int>(rng() % 3);  // 0 not a number, 1 a field short, 2 a field too many
    std::string text;
    for (int r = 0; r < rows; ++r) {
      const int fields = r == bad_row && kind == 1 ? nc - 1 : r == bad_row && kind == 2 ? nc + 1 : nc;
      for (int c = 0; c < fields; ++c) {
        if (c) text += ',';
        text += r == bad_row && kind == 0 && c == bad_col ? "1x"
                : rng() % 5                               ? std::to_string(rng() % 10)
                                                          : "42";
      }
      text += "\n";
    }
    CsvOptions opt;
    opt.header = CsvHeader::kNo;
    opt.chunk_bytes = 64 + rng() % 300;
    auto o = ReadAll(text, Schema(nc), opt);
    if (kind == 0) {
      ExpectError(o, bad_row + 1, bad_col + 1, "not a number: '1x' in column " + std::to_string(bad_col + 1));
    } else if (kind == 1) {
      ExpectError(
          o, bad_row + 1, nc,
          "the row has " + std::to_string(nc - 1) + " fields but the first row has " + std::to_string(nc));
    } else {
      ExpectError(o, bad_row + 1, nc + 1, "more fields (" + std::to_string(nc + 1) + ")");
    }
  }
}

TEST(CsvReaderTest, RoundsLikeDoubleThenFloat) {
  // Correct rounding to double, then to float32 (pandas + numpy astype).
  const char* texts[] = {"0.1",
                         "3.4028235677973366e38",
                         "1e-46",
                         "16777217",
                         "123456789012345678",
                         "0.30000000000000004",
                         "1e500",
                         "-inf",
                         "Infinity"};
  for (const char* t : texts) {
    auto o = ReadAll(std::string(t) + "\n", Schema(1), {.header = CsvHeader::kNo});
    ASSERT_TRUE(o.status.ok()) << t << ": " << o.status.ToString();
    double d = std::strtod(t, nullptr);
    EXPECT_EQ(o.values[0], static_cast<float>(d)) << t;
  }
}

// Decimal fields take the fast row parser's fast_float path; each must read
// bit for bit as the general parser's ParseNumber of the whole field, in
// column order and through a header's mapping, and anything the fast path
// does not take (blanks, '+', long integers, out of range, special
// spellings) must still read as before or fail the same way.
TEST(CsvReaderTest, DecimalsReadAsTheGeneralParser) {
  const char* fields[] = {"0.1",
                          "-0.07760192",
                          "12.06131",
                          "5.",
                          ".5",
                          "-.5",
                          "1e3",
                          "1E-3",
                          "-2.5e+7",
                          "1e-46",
                          "3.5e38",
                          "1e39",
                          "-1e500",
                          " 1.5",
                          "1.5 ",
                          "+2.25",
                          "nan",
                          "-inf",
                          "NA",
                          "1.#QNAN",
                          "",
                          "0.0",
                          "-0.0",
                          "16777217",
                          "123456789012345678",
                          "0.30000000000000004",
                          "7",
                          "-12"};
  const int n = sizeof(fields) / sizeof(fields[0]);
  const int nc = 5;
  std::string text, header = "c4,c3,c2,c1,c0\n";
  std::vector<float> want, want_mapped;
  uint32_t seed = 12345;
  for (int r = 0; r < 60; ++r) {
    std::vector<float> row(nc);
    for (int c = 0; c < nc; ++c) {
      seed = seed * 1664525u + 1013904223u;
      const char* t = fields[(seed >> 8) % n];
      if (c) text += ',';
      text += t;
      std::string_view trimmed = TrimBlanks(t, ',');
      double d = 0;
      if (trimmed.empty() || trimmed == "NA" || trimmed == "nan" || trimmed == "1.#QNAN") {
        row[c] = std::nanf("");
      } else {
        ASSERT_TRUE(ParseNumber(trimmed, &d)) << t;
        row[c] = static_cast<float>(d);
      }
    }
    text += r % 7 == 0 ? "\r\n" : "\n";
    want.insert(want.end(), row.begin(), row.end());
    want_mapped.insert(want_mapped.end(), row.rbegin(), row.rend());
  }
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  auto o = ReadAll(text, Schema(nc), {.header = CsvHeader::kNo});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.rows, 60u);
  // NaN's bits: the general parser writes quiet_NaN, as nanf("") is.
  EXPECT_TRUE(same(o.values, want));
  o = ReadAll(header + text, Schema(nc, {"c0", "c1", "c2", "c3", "c4"}));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_TRUE(same(o.values, want_mapped));
  // Errors in decimal rows are the general parser's.
  ExpectError(ReadAll("1.5,2.5\n3.5,4.5x\n", Schema(2)), 2, 2, "not a number: '4.5x' in column 2");
  ExpectError(ReadAll("1.5,2.5\n3.5,4.5,5.5\n", Schema(2)), 2, 3, "more fields (3) than the first row (2)");
  ExpectError(ReadAll("1.5,2.5\n3.5\n", Schema(2)), 2, 2, "the row has 1 fields but the first row has 2");
  CsvOptions inf_error;
  inf_error.infinity_is_error = true;
  ExpectError(ReadAll("1.5,2.5\n3.5,3.5e38\n", Schema(2), inf_error), 2, 2, "Input X contains infinity");
}

TEST(CsvReaderTest, QuotedFieldsCrlfAndBlankLines) {
  std::string text = "\"a\",\"b,c\",d\r\n\r\n\"1\",\" 2 \",3\r\n4,\"5\"\"\",6\n\n\"7\n\",8,9";
  auto o = ReadAll(text, Schema(3, {"a", "b,c", "d"}));
  ASSERT_FALSE(o.status.ok());  // 5" is not a number
  ExpectError(o, 4, 2, "not a number: '5\"'");
  text = "\"a\",\"b,c\",d\r\n\r\n\"1\",\" 2 \",3\r\n4,\"5\",6\n\n\"7\n\",8,9";
  o = ReadAll(text, Schema(3, {"a", "b,c", "d"}));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_TRUE(o.header);
  EXPECT_EQ(o.values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(CsvReaderTest, QuotedNewlinesCountLines) {
  // The error is on the row starting at line 4 (line 2-3 is one quoted row).
  auto o = ReadAll("x,y\n\"1\n\",2\n3,zz\n", Schema(2), {.header = CsvHeader::kYes});
  ExpectError(o, 4, 2, "not a number: 'zz'");
}

TEST(CsvReaderTest, Delimiters) {
  auto o = ReadAll("1;2\n3;4\n", Schema(2), {.delimiter = ';'});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values, (std::vector<float>{1, 2, 3, 4}));
  o = ReadAll("1\t 2\n3\t4\n", Schema(2), {.delimiter = '\t'});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values, (std::vector<float>{1, 2, 3, 4}));
  o = ReadAll("1 2\n", Schema(2), {.delimiter = ' '});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_FALSE(
      CsvReader::Open(std::make_unique<StringReadStream>("1\n"), "in.csv", {.delimiter = '"'}, Schema(1))
          .ok());
}

TEST(CsvReaderTest, HeaderModes) {
  // auto: numeric first row is data; any text makes it a header.
  auto o = ReadAll("1,2\n3,4\n", Schema(2));
  EXPECT_FALSE(o.header);
  EXPECT_EQ(o.rows, 2u);
  o = ReadAll("NA,\n3,4\n", Schema(2));  // missing values count as numeric
  EXPECT_FALSE(o.header);
  EXPECT_EQ(o.rows, 2u);
  o = ReadAll("a,2\n3,4\n", Schema(2));
  EXPECT_TRUE(o.header);
  EXPECT_EQ(o.rows, 1u);
  // yes: even a numeric first row is a header.
  o = ReadAll("1,2\n3,4\n", Schema(2), {.header = CsvHeader::kYes});
  EXPECT_TRUE(o.header);
  EXPECT_EQ(o.values, (std::vector<float>{3, 4}));
  // no: a text first row is data, hence an error.
  o = ReadAll("a,b\n3,4\n", Schema(2), {.header = CsvHeader::kNo});
  ExpectError(o, 1, 1, "not a number: 'a'");
  // A header alone is a file with no rows.
  o = ReadAll("a,b\n", Schema(2, {"a", "b"}));
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(o.rows, 0u);
}

TEST(CsvReaderTest, MatchesColumnsByNameInAnyOrder) {
  auto o = ReadAll("id,b,junk,a\n9,2,hello,1\n8,4,\"x,y\",3\n", Schema(2, {"a", "b"}));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvReaderTest, MissingAndDuplicateColumnsNamed) {
  auto o = ReadAll("a,x\n1,2\n", Schema(3, {"a", "b", "c"}));
  ExpectError(o, 1, 0, "lacks 2 of the model's 3 features: b, c");
  o = ReadAll("\n\na,b,a\n1,2,3\n", Schema(2, {"a", "b"}));
  ExpectError(o, 3, 3, "column 'a' appears twice (columns 1 and 3)");
}

TEST(CsvReaderTest, ColumnCountMustMatchWithoutNames) {
  auto o = ReadAll("1,2,3\n", Schema(2));
  ExpectError(o, 1, 0, "the first row has 3 columns but the model expects 2 features");
  o = ReadAll("a,b,c\n1,2,3\n", Schema(2));
  ExpectError(o, 1, 0, "the header has 3 columns");
}

TEST(CsvReaderTest, MissingValues) {
  auto o = ReadAll("1,,NA\nNaN,nan,NULL\n n/a ,#N/A,<NA>\nNAN,-nan,2\n", Schema(3));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.values.size(), 12u);
  int nans = 0;
  for (float v : o.values) nans += std::isnan(v);
  EXPECT_EQ(nans, 10);
  EXPECT_EQ(o.values[0], 1);
  EXPECT_EQ(o.values[11], 2);
  // A model that rejects NaN names the place.
  o = ReadAll("1,2\n3,NA\n", Schema(2, {"p", "q"}), {.missing_is_error = true});
  o = ReadAll("p,q\n1,2\n3,NA\n", Schema(2, {"p", "q"}), {.missing_is_error = true});
  ExpectError(o, 3, 2, "Input X contains NaN: missing value 'NA' in column 2 ('q')");
}

TEST(CsvReaderTest, ShortAndLongRows) {
  auto o = ReadAll("1,2,3\n4,5\n", Schema(3));
  ExpectError(o, 2, 3, "the row has 2 fields but the first row has 3");
  o = ReadAll("1,2,3\n4,5,6,7,8\n", Schema(3));
  ExpectError(o, 2, 4, "more fields (5) than the first row (3)");
  o = ReadAll("1,2,3\r\n4,5,6\r\n7,8\r\n", Schema(3));
  ExpectError(o, 3, 3, "the row has 2 fields");
}

TEST(CsvReaderTest, NonNumericFields) {
  auto o = ReadAll("1,2\n3,4\n5,0x10\n", Schema(2));
  ExpectError(o, 3, 2, "not a number: '0x10' in column 2");
  o = ReadAll("1,2\n3,1e\n", Schema(2));
  ExpectError(o, 2, 2, "not a number: '1e'");
  o = ReadAll("1,2\n3,- 1\n", Schema(2));
  ExpectError(o, 2, 2, "not a number");
  o = ReadAll("1,2\n3,\"4\n", Schema(2));
  ExpectError(o, 2, 2, "never closed");
}

TEST(CsvReaderTest, EmptyInput) {
  for (const char* text : {"", "\n\n\r\n"}) {
    auto o = ReadAll(text, Schema(2));
    ASSERT_FALSE(o.status.ok());
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidData);
    EXPECT_NE(o.status.message().find("empty file"), std::string::npos);
    EXPECT_EQ(o.status.path(), "in.csv");
  }
}

TEST(CsvReaderTest, ChunkBoundariesNeverSplitRows) {
  // Many small chunks and 1-byte reads: same values, errors on the right line.
  std::string text = "a,b\n";
  std::vector<float> want;
  for (int i = 0; i < 500; ++i) {
    if (i % 7 == 0) {
      text += "\"" + std::to_string(i) + "\",\"x\n\"\"y\"\n";  // quoted, newline inside an ignored column
    } else {
      text += std::to_string(i) + "," + std::to_string(i * 0.25) + "\r\n";
    }
  }
  CsvSchema schema = Schema(1, {"a"});
  for (size_t chunk : {64, 100, 1 << 20}) {
    for (size_t step : {size_t{1}, size_t{7}, SIZE_MAX}) {
      auto o = ReadAll(text, schema, {.chunk_bytes = chunk}, step);
      ASSERT_TRUE(o.status.ok()) << o.status.ToString();
      ASSERT_EQ(o.rows, 500u);
      for (int i = 0; i < 500; ++i) ASSERT_EQ(o.values[i], i);
    }
  }
  text += "1,2,3\n";
  auto o = ReadAll(text, schema, {.chunk_bytes = 64}, 3);
  // 1 header line, 500 rows, of which 72 span 2 lines.
  ExpectError(o, 1 + 500 + 72 + 1, 3, "more fields");
}

TEST(CsvReaderTest, RowLongerThanLimitIsAnError) {
  std::string text = "1,2\n3,4\n\"" + std::string(5000, 'x');
  auto o = ReadAll(text, Schema(2), {.chunk_bytes = 64, .max_row_bytes = 1024});
  ExpectError(o, 3, 0, "longer than 1024 bytes");
}

// A generated input of ~200 MB that is never held in memory.
class GeneratedStream : public ReadStream {
 public:
  explicit GeneratedStream(uint64_t rows) : rows_(rows) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t out = 0;
    while (out < n) {
      if (pos_ == row_.size()) {
        if (done_ == rows_) break;
        row_ = std::to_string(done_ % 1000) + ",0.5,-3,12345,1e-3,7,8,9,10,11\n";
        pos_ = 0;
        ++done_;
      }
      size_t k = std::min(n - out, row_.size() - pos_);
      std::memcpy(buf + out, row_.data() + pos_, k);
      pos_ += k;
      out += k;
    }
    return out;
  }

 private:
  uint64_t rows_, done_ = 0;
  std::string row_;
  size_t pos_ = 0;
};

TEST(CsvReaderTest, MemoryStaysBoundedOnLargeInput) {
  const uint64_t rows = 2'000'000;  // ~70 MB of text
  CsvOptions opt;
  opt.chunk_bytes = 1 << 20;
  auto r = CsvReader::Open(std::make_unique<GeneratedStream>(rows), "gen.csv", opt, Schema(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  CsvChunk chunk;
  CsvBlock block;
  double sum = 0;
  size_t max_block = 0;
  for (;;) {
    auto got = (*r)->NextChunk(&chunk);
    ASSERT_TRUE(got.ok());
    if (!*got) break;
    (*r)->Parse(chunk, &block);
    ASSERT_TRUE((*r)->Account(block).ok());
    sum += block.values[0];
    max_block = std::max(max_block, block.values.capacity() * sizeof(float));
  }
  EXPECT_EQ((*r)->rows_accounted(), rows);
  // The reader's buffers stay near one chunk, whatever the input size.
  EXPECT_LE((*r)->peak_buffer_bytes(), 3u * opt.chunk_bytes);
  EXPECT_LE(chunk.bytes.capacity(), 3u * opt.chunk_bytes);
  EXPECT_LE(max_block, 8u * opt.chunk_bytes);
}

// Raw columns of a trained model: "age" numeric (feature 0), "job" with
// categories a, b, 3 (features 1-3), "city" with x, y (features 4-5).
CsvSchema RawSchema() {
  CsvSchema s = Schema(6, {"age", "job_3", "job_a", "job_b", "city_x", "city_y"});
  s.input_columns = {{"age", 0, {}}, {"job", 1, {"3", "a", "b"}}, {"city", 4, {"x", "y"}}};
  return s;
}

TEST(CsvReaderTest, RawColumnsAreFoundByNameAndOneHotEncoded) {
  const std::string text =
      "y,city , job,age,extra\n"
      "1,x,a,30,zz\n"
      "0,y,3,NA,zz\n"                  // a number-looking category; a missing number
      "1,\"x\",\" b \",2.5,\"q,r\"\n"  // quoted and padded fields
      "0,w,,7,zz\n"                    // an unseen category and a missing one
      "1,NA,c,-1,zz\n";
  for (size_t step : {size_t{3}, SIZE_MAX}) {
    CsvOptions opt;
    opt.chunk_bytes = 64;  // several chunks: indicators of earlier rows must not leak
    auto o = ReadAll(text, RawSchema(), opt, step);
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_TRUE(o.header);
    ASSERT_EQ(o.rows, 5u);
    const float nan = std::nanf("");
    const std::vector<float> want = {30,   0, 1, 0, 1, 0,  //
                                     nan,  1, 0, 0, 0, 1,  //
                                     2.5f, 0, 0, 1, 1, 0,  //
                                     7,    0, 0, 0, 0, 0,  //
                                     -1,   0, 0, 0, 0, 0};
    ASSERT_EQ(o.values.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(o.values[i])) << i;
      } else {
        EXPECT_EQ(o.values[i], want[i]) << i;
      }
    }
  }
}

TEST(CsvReaderTest, ExpandedFeaturesAreStillReadByNameOrPosition) {
  // Data already expanded (get_dummies): every feature name, no raw "job".
  auto o = ReadAll("city_y,age,job_3,job_a,job_b,city_x,y\n1,5,0,0,1,0,x\n", RawSchema());
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values, (std::vector<float>{5, 0, 0, 1, 0, 1}));
  CsvOptions no_header;
  no_header.header = CsvHeader::kNo;
  o = ReadAll("5,0,0,1,0,1\n", RawSchema(), no_header);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.values, (std::vector<float>{5, 0, 0, 1, 0, 1}));
  // Neither complete: the raw columns are what is asked for.
  ExpectError(ReadAll("age,job_3,city\n1,0,x\n", RawSchema()), 1, 0, "input columns: job");
}

TEST(CsvReaderTest, RawColumnErrorsNameFileLineAndColumn) {
  // A numeric raw column holding text.
  ExpectError(ReadAll("age,job,city\n1,a,x\n\n2,b,x\nold,a,y\n", RawSchema()), 5, 1,
              "not a number: 'old' in column 1 ('age')");
  // A missing raw column.
  ExpectError(ReadAll("age,city,y\n1,x,0\n", RawSchema()), 1, 0,
              "lacks 1 of the model's 3 input columns: job");
  // No header: the raw columns cannot be found.
  CsvOptions no_header;
  no_header.header = CsvHeader::kNo;
  ExpectError(ReadAll("1,a,x\n", RawSchema(), no_header), 1, 0, "give the input a header row naming them");
  // The same name twice.
  ExpectError(ReadAll("age,job,city, job\n1,a,x,b\n", RawSchema()), 1, 4, "'job' appears twice");
  // A schema whose columns do not fill the features is the caller's bug.
  CsvSchema gap = RawSchema();
  gap.input_columns.pop_back();
  auto r = CsvReader::Open(std::make_unique<StringReadStream>("age,job\n1,a\n"), "in.csv", {}, gap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(CsvReader, ByteOrderMarkIsNotPartOfTheFirstField) {
  ReadOut out = ReadAll(
      "\xEF\xBB\xBF"
      "a,b\n1,2\n",
      Schema(2, {"a", "b"}));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.values, (std::vector<float>{1, 2}));
}

TEST(CsvReader, InfinityIsAnErrorOnlyWhenAsked) {
  ReadOut ok = ReadAll("1,inf\n2,1e300\n", Schema(2));
  ASSERT_TRUE(ok.status.ok());
  EXPECT_TRUE(std::isinf(ok.values[1]) && std::isinf(ok.values[3]));
  CsvOptions o;
  o.infinity_is_error = true;
  ReadOut bad = ReadAll("1,2\n2,1e300\n", Schema(2), o);
  EXPECT_NE(bad.status.message().find("Input X contains infinity or a value too large for dtype('float32')"),
            std::string::npos)
      << bad.status.ToString();
  EXPECT_EQ(bad.status.line(), 2u);
  EXPECT_EQ(bad.status.column(), 2u);
}

TEST(CsvReader, KeptColumnsTravelVerbatimAndAreNotFeatures) {
  CsvOptions o;
  o.keep_columns = {"id", "note"};
  o.chunk_bytes = 64;
  std::string text = "id,a,note,b\n";
  for (int r = 0; r < 50; ++r)
    text += "00" + std::to_string(r) + "," + std::to_string(r) + ",\"x, \"\"" + std::to_string(r) +
            "\"\"\"," + std::to_string(2 * r) + (r % 2 ? "\r\n" : "\n");
  auto reader = CsvReader::Open(std::make_unique<StringReadStream>(text), "in.csv", o, Schema(2));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ((*reader)->kept_columns().size(), 2u);
  EXPECT_EQ((*reader)->kept_columns()[1].name, "note");
  CsvChunk chunk;
  CsvBlock block;
  int row = 0;
  while (*(*reader)->NextChunk(&chunk)) {
    (*reader)->Parse(chunk, &block);
    ASSERT_TRUE((*reader)->Account(block).ok());
    ASSERT_EQ(block.kept.size(), 2u);
    for (size_t i = 0; i < block.rows; ++i, ++row) {
      EXPECT_EQ(block.kept[0].TextAt(i), "00" + std::to_string(row));
      EXPECT_EQ(block.kept[1].TextAt(i), "x, \"" + std::to_string(row) + "\"");
      EXPECT_EQ(block.values[2 * i], row);
      EXPECT_EQ(block.values[2 * i + 1], 2 * row);
    }
  }
  EXPECT_EQ(row, 50);
  // Without a header, positions; the other columns are the features in order.
  CsvOptions p;
  p.keep_columns = {"1"};
  ReadOut pos = ReadAll("7,1,2\n8,3,4\n", Schema(2), p);
  ASSERT_TRUE(pos.status.ok()) << pos.status.ToString();
  EXPECT_EQ(pos.values, (std::vector<float>{1, 2, 3, 4}));
  // A text id kept by position does not make the first row a header.
  ReadOut text_id = ReadAll("u7,10,20\nu8,30,40\n", Schema(2), p);
  ASSERT_TRUE(text_id.status.ok()) << text_id.status.ToString();
  EXPECT_FALSE(text_id.header);
  EXPECT_EQ(text_id.values, (std::vector<float>{10, 20, 30, 40}));
}

// The one reader of quoted fields that parsing, kept columns and header
// rows share (io/csv_text.h).
TEST(CsvTextTest, ReadQuotedField) {
  auto read = [](std::string_view text, std::string* out, uint64_t* newlines) {
    const char* e = ReadQuotedField(text.data(), text.data() + text.size(), ',', out, newlines);
    return e == nullptr ? -1 : static_cast<int>(e - text.data());
  };
  std::string out;
  uint64_t nl = 0;
  EXPECT_EQ(read("\"a\"\"b\nc\",d", &out, &nl), 8);  // ends on the delimiter
  EXPECT_EQ(out, "a\"b\nc");
  EXPECT_EQ(nl, 1u);
  out.clear();
  EXPECT_EQ(read("\"a\"tail\r\n", &out, &nl), 7);  // pandas keeps the tail; stops on the CRLF's '\r'
  EXPECT_EQ(out, "atail");
  out.clear();
  EXPECT_EQ(read("\"a\"", &out, &nl), 3);  // at the end
  EXPECT_EQ(out, "a");
  out.clear();
  EXPECT_EQ(read("\"a\"\"b", &out, &nl), -1);  // never closed
  EXPECT_EQ(out, "a\"");
}

}  // namespace
}  // namespace fb
