#include "io/result_writer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "io/test_streams.h"

namespace fb {
namespace {

ResultLayout Classifier(ResultFormat f, std::vector<std::string> labels, bool ints, bool proba = false) {
  ResultLayout l;
  l.format = f;
  l.classifier = true;
  l.proba = proba;
  l.labels = std::move(labels);
  l.labels_are_integers = ints;
  l.n_values = static_cast<int32_t>(l.labels.size());
  return l;
}

std::string Render(const ResultLayout& layout, const std::vector<double>& values,
                   const std::vector<int32_t>& labels, int32_t n_cols, uint64_t first_row = 0) {
  auto f = ResultFormatter::Create(layout);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  size_t n = values.size() / n_cols;
  PredictionRows rows{n, n_cols, values.data(), labels.empty() ? nullptr : labels.data()};
  FormattedRows text;
  f->Format(rows, &text);
  std::string out = first_row == 0 ? f->header() : "";
  if (f->numbers_rows()) {
    DefaultInitVector<char> numbered;
    f->Number(text, first_row, &numbered);
    out.append(numbered.data(), numbered.size());
    if (f->numbers_labels()) {
      // The rows straight from the labels are the same bytes, after what *out held.
      DefaultInitVector<char> direct(3, 'x');
      f->NumberLabels(labels.data(), n, first_row, &direct);
      EXPECT_EQ(std::string(direct.data(), direct.size()),
                "xxx" + std::string(numbered.data(), numbered.size()));
    }
  } else {
    out += text.text;
  }
  return out;
}

TEST(ResultWriterTest, CsvLabelsAndProbabilities) {
  auto l = Classifier(ResultFormat::kCsv, {"0", "1"}, true);
  EXPECT_EQ(Render(l, {0.9, 0.1, 0.25, 0.75}, {0, 1}, 2), "prediction\n0\n1\n");
  l.proba = true;
  EXPECT_EQ(Render(l, {0.9, 0.1, 0.25, 0.75}, {0, 1}, 2),
            "prediction,proba_0,proba_1\n0,0.9,0.1\n1,0.25,0.75\n");
  auto s = Classifier(ResultFormat::kCsv, {"no", "yes, really", "q\"x"}, false, true);
  EXPECT_EQ(Render(s, {1, 0, 0}, {0}, 3),
            "prediction,proba_no,\"proba_yes, really\",\"proba_q\"\"x\"\nno,1.0,0.0,0.0\n");
}

// Models whose values are not probabilities (IsolationForest) name them.
TEST(ResultWriterTest, NamedValueColumns) {
  auto l = Classifier(ResultFormat::kCsv, {"-1", "1"}, true, true);
  l.value_names = {"score_samples", "decision_function"};
  EXPECT_EQ(Render(l, {-0.625, -0.125, -0.375, 0.125}, {0, 1}, 2),
            "prediction,score_samples,decision_function\n-1,-0.625,-0.125\n1,-0.375,0.125\n");
  l.format = ResultFormat::kJsonl;
  EXPECT_EQ(
      Render(l, {-0.625, -0.125}, {0}, 2),
      "{\"row\":0,\"prediction\":-1,\"scores\":{\"score_samples\":-0.625,\"decision_function\":-0.125}}\n");
  l.format = ResultFormat::kCsv;
  l.output_columns = {"decision_function=d"};
  EXPECT_EQ(Render(l, {-0.625, -0.125}, {0}, 2), "d\n-0.125\n");
  // Without --proba the names play no part.
  l.output_columns.clear();
  l.proba = false;
  EXPECT_EQ(Render(l, {-0.625, -0.125}, {0}, 2), "prediction\n-1\n");
}

TEST(ResultWriterTest, SeedMatchesPandasToCsv) {
  // Expected strings are what pandas 1.5 DataFrame(pred).to_csv() writes.
  auto l = Classifier(ResultFormat::kSeed, {"-3", "0", "1"}, true);
  EXPECT_EQ(Render(l, {0, 1, 0, 0, 0, 1, 1, 0, 0}, {1, 2, 0}, 3), ",0\n0,0\n1,1\n2,-3\n");
  auto s = Classifier(ResultFormat::kSeed, {"a", "b,c", "d\"e", "True"}, false);
  EXPECT_EQ(Render(s, std::vector<double>(16, 0.25), {0, 1, 2, 3}, 4),
            ",0\n0,a\n1,\"b,c\"\n2,\"d\"\"e\"\n3,True\n");
  ResultLayout r;
  r.format = ResultFormat::kSeed;
  r.classifier = false;
  EXPECT_EQ(Render(r, {0.5, 1.0, 1e-05, 1e16, 0.1 + 0.2}, {}, 1),
            ",0\n0,0.5\n1,1.0\n2,1e-05\n3,1e+16\n4,0.30000000000000004\n");
  r.n_values = 2;
  EXPECT_EQ(Render(r, {1.5, 2.0, 3.0, 4.0}, {}, 2), ",0,1\n0,1.5,2.0\n1,3.0,4.0\n");
  // Later blocks continue the numbering.
  EXPECT_EQ(Render(l, {0, 1, 0}, {1}, 3, 41), "41,0\n");
}

TEST(ResultWriterTest, Jsonl) {
  auto l = Classifier(ResultFormat::kJsonl, {"0", "1"}, true, true);
  EXPECT_EQ(Render(l, {0.75, 0.25}, {0}, 2),
            "{\"row\":0,\"prediction\":0,\"proba\":{\"0\":0.75,\"1\":0.25}}\n");
  auto s = Classifier(ResultFormat::kJsonl, {"x\"y", "z"}, false);
  EXPECT_EQ(Render(s, {0.5, 0.5}, {0}, 2, 7), "{\"row\":7,\"prediction\":\"x\\\"y\"}\n");
  ResultLayout r;
  r.format = ResultFormat::kJsonl;
  r.classifier = false;
  EXPECT_EQ(Render(r, {2.5, std::nan("")}, {}, 1),
            "{\"row\":0,\"prediction\":2.5}\n{\"row\":1,\"prediction\":null}\n");
}

// Row numbers count up across digit boundaries and from any first row.
TEST(ResultWriterTest, NumbersRowsAcrossDigitBoundaries) {
  for (ResultFormat fmt : {ResultFormat::kSeed, ResultFormat::kJsonl}) {
    auto f = ResultFormatter::Create(Classifier(fmt, {"0", "1"}, true, false));
    ASSERT_TRUE(f.ok());
    for (uint64_t first : {uint64_t{0}, uint64_t{7}, uint64_t{95}, uint64_t{997}, uint64_t{99999999999990},
                           uint64_t{18446744073709551600u}}) {
      std::vector<int32_t> label(12, 1);
      std::vector<double> values(12, 1.0);
      FormattedRows text;
      f->Format(PredictionRows{12, 1, values.data(), label.data()}, &text);
      DefaultInitVector<char> numbered(1, 'x');
      f->Number(text, first, &numbered);
      const std::string got(numbered.data(), numbered.size());
      std::string want = "x";
      for (uint64_t r = first; r < first + 12; ++r)
        want += fmt == ResultFormat::kSeed ? std::to_string(r) + ",1\n"
                                           : "{\"row\":" + std::to_string(r) + ",\"prediction\":1}\n";
      EXPECT_EQ(got, want) << first;
      EXPECT_EQ(f->numbers_labels(), fmt == ResultFormat::kSeed);
      if (f->numbers_labels()) {
        DefaultInitVector<char> direct(1, 'x');
        f->NumberLabels(label.data(), label.size(), first, &direct);
        EXPECT_EQ(std::string(direct.data(), direct.size()), want) << first;
      }
    }
  }
}

// Labels are copied in fixed-size pieces when every label's text is shorter
// than 16 bytes and there are at most 16 classes; longer labels and more
// classes take the general loop. Every case writes each row's label alone.
// (Render also checks the seed format's rows written straight from the
// labels, which take the same short labels.)
TEST(ResultWriterTest, LabelsOfEveryLengthAndCount) {
  for (ResultFormat fmt : {ResultFormat::kCsv, ResultFormat::kSeed}) {
    for (size_t len : {size_t{1}, size_t{7}, size_t{14}, size_t{15}, size_t{16}, size_t{17}, size_t{40}}) {
      for (size_t classes : {size_t{2}, size_t{16}, size_t{17}}) {
        std::vector<std::string> labels;
        for (size_t k = 0; k < classes; ++k) {
          std::string t = std::string(k % 2 ? len : 1 + (k % len), static_cast<char>('a' + k % 26));
          labels.push_back(t + std::to_string(k).substr(0, t.size() > 3 ? 2 : 0));
        }
        auto layout = Classifier(fmt, labels, false);
        std::vector<int32_t> label;
        for (size_t r = 0; r < 101; ++r) label.push_back(static_cast<int32_t>((r * 7) % classes));
        std::vector<double> values(label.size() * classes, 0.0);
        const std::string got = Render(layout, values, label, static_cast<int32_t>(classes), 5);
        std::string want;
        for (size_t r = 0; r < label.size(); ++r) {
          if (fmt == ResultFormat::kSeed) want += std::to_string(5 + r) + ",";
          const std::string& t = labels[label[r]];
          want += t.find_first_of(",\"") == std::string::npos ? t : "\"" + t + "\"";
          want += "\n";
        }
        EXPECT_EQ(got, want) << "length " << len << ", classes " << classes;
      }
    }
  }
}

// labels_only(): the outputs for which predict skips the probabilities
// (PredictLabels) are exactly those Format writes from the labels alone.
TEST(ResultWriterTest, LabelsOnlyOutputsNeverReadValues) {
  for (ResultFormat fmt : {ResultFormat::kCsv, ResultFormat::kSeed}) {
    auto f = ResultFormatter::Create(Classifier(fmt, {"0", "1"}, true));
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(f->labels_only());
    const std::vector<int32_t> labels = {1, 0, 0, 1};
    const std::vector<double> values = {0.1, 0.9, 0.8, 0.2, 0.6, 0.4, 0.3, 0.7};
    FormattedRows with, without;
    f->Format(PredictionRows{4, 2, values.data(), labels.data()}, &with);
    f->Format(PredictionRows{4, 2, nullptr, labels.data()}, &without);
    EXPECT_EQ(with.text, without.text);
    EXPECT_EQ(with.ends, without.ends);
  }
  auto not_only = [](ResultLayout l) {
    auto f = ResultFormatter::Create(std::move(l));
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() && !f->labels_only();
  };
  EXPECT_TRUE(not_only(Classifier(ResultFormat::kCsv, {"0", "1"}, true, /*proba=*/true)));
  EXPECT_TRUE(not_only(Classifier(ResultFormat::kJsonl, {"0", "1"}, true)));
  EXPECT_TRUE(not_only(Classifier(ResultFormat::kParquet, {"0", "1"}, true, /*proba=*/true)));
  auto parquet = ResultFormatter::Create(Classifier(ResultFormat::kParquet, {"0", "1"}, true));
  ASSERT_TRUE(parquet.ok());
  EXPECT_TRUE(parquet->labels_only());  // Parquet.LabelsOnlyOutputsNeedNoValues
  auto margin = Classifier(ResultFormat::kCsv, {"0", "1"}, true);
  margin.margin = true;
  EXPECT_TRUE(not_only(margin));
  auto selected = Classifier(ResultFormat::kCsv, {"0", "1"}, true);
  selected.output_columns = {"prediction"};
  EXPECT_TRUE(not_only(selected));
  ResultLayout regressor;
  regressor.classifier = false;
  EXPECT_TRUE(not_only(regressor));
}

TEST(ResultWriterTest, RejectsMeaninglessCombinations) {
  ResultLayout r;
  r.classifier = false;
  r.proba = true;
  EXPECT_EQ(ResultFormatter::Create(r).status().code(), StatusCode::kInvalidArgument);
  auto l = Classifier(ResultFormat::kSeed, {"0", "1"}, true, true);
  EXPECT_EQ(ResultFormatter::Create(l).status().code(), StatusCode::kInvalidArgument);
}

TEST(ResultWriterTest, SinkHashesAndCommitsAtomically) {
  std::string committed = "untouched";
  {
    ResultSink sink(std::make_unique<testing::StringWriteStream>(&committed));
    ASSERT_TRUE(sink.Write("abc").ok());
    sink.Abort();
  }
  EXPECT_EQ(committed, "untouched");
  ResultSink sink(std::make_unique<testing::StringWriteStream>(&committed), 2);
  ASSERT_TRUE(sink.Write("a").ok());
  ASSERT_TRUE(sink.Write("bc").ok());
  ASSERT_TRUE(sink.Commit().ok());
  EXPECT_EQ(committed, "abc");
  EXPECT_EQ(sink.bytes(), 3u);
  EXPECT_EQ(sink.sha256_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace fb
