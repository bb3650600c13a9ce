// The CSV reader's one-hot encoding of raw columns against InputEncoder
// (model/input_encoding.h), the reference: the same raw rows, predicted
// through the pipeline as raw CSV and as the reference's expanded features,
// give the same output bytes.
#include "pipeline/input_schema.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/atomic_file.h"
#include "common/test_dir.h"
#include "model/forest_builder.h"
#include "model/input_encoding.h"
#include "pipeline/file_predictor.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// Features: a, b (numeric), c_1, c_x, "c_y z" (categorical c), d_p, d_q.
InputEncoding Encoding() {
  InputEncoding e;
  e.columns = {{"a", 0, {}}, {"b", 1, {}}, {"c", 2, {"1", "x", "y z"}}, {"d", 5, {"p", "q"}}};
  return e;
}

std::shared_ptr<const Forest> EncodedForest(uint32_t seed) {
  std::mt19937 rng(seed);
  Forest f;
  f.kind = ModelKind::kClassifier;
  f.n_features = 7;
  f.feature_names = {"a", "b", "c_1", "c_x", "c_y z", "d_p", "d_q"};
  f.encoding = Encoding();
  f.n_outputs = f.leaf_width = 2;
  f.class_labels = {"no", "yes"};
  std::uniform_real_distribution<double> val(0, 1);
  for (int t = 0; t < 9; ++t) {
    Tree tree;
    tree.nodes.resize(15);
    tree.values.assign(30, 0.0);
    for (int i = 0; i < 7; ++i) {
      int32_t feature = static_cast<int32_t>(rng() % 7);
      float threshold = feature < 2 ? static_cast<float>(val(rng) * 4 - 2) : 0.5f;
      tree.nodes[i] = Node{2 * i + 1, 2 * i + 2, feature, threshold, (rng() & 1) != 0};
    }
    for (int i = 7; i < 15; ++i) {
      double p = val(rng);
      tree.values[2 * i] = p;
      tree.values[2 * i + 1] = 1 - p;
    }
    f.trees.push_back(tree);
  }
  auto r = BuildForest(std::move(f));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::make_shared<const Forest>(std::move(r).value());
}

// One field: its CSV text and the value InputEncoder is given (unquoted).
struct Field {
  std::string csv, value;
};

Field NumberField(std::mt19937& rng) {
  static const std::vector<std::string> kOdd = {"",      "NA", "nan", "NULL", "#N/A",
                                                " 1.5 ", "+2", "-0",  "1e-3", "3"};
  if (rng() % 4 == 0) {
    std::string s = kOdd[rng() % kOdd.size()];
    return {s, s};
  }
  std::string s = fmt::format("{:.3f}", std::uniform_real_distribution<double>(-2.5, 2.5)(rng));
  return {s, s};
}

Field CategoryField(std::mt19937& rng, const std::vector<std::string>& categories) {
  switch (rng() % 6) {
    case 0: return {"unseen", "unseen"};
    case 1: return {"", ""};
    case 2: return {"NA", "NA"};
    case 3: {
      const std::string& c = categories[rng() % categories.size()];
      return {"\"" + c + "\"", c};  // quoted
    }
    case 4: {
      const std::string& c = categories[rng() % categories.size()];
      return {" " + c + " ", " " + c + " "};  // padded
    }
    default: {
      const std::string& c = categories[rng() % categories.size()];
      return {c, c};
    }
  }
}

class InputSchemaTest : public testing::TestDirTest {};

TEST_F(InputSchemaTest, RawCsvPredictsAsTheReferenceEncoding) {
  auto forest = EncodedForest(3);
  // The raw file: columns in another order, with the target and an extra one.
  const std::vector<std::string> header = {"d", "target", "a", "c", "extra", "b"};
  auto encoder = InputEncoder::Make(forest->encoding, forest->n_features, header);
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::mt19937 rng(11);
  std::string raw = "d,target,a,c,extra,b\n", expanded = "a,b,c_1,c_x,c_y z,d_p,d_q\n";
  for (int r = 0; r < 4000; ++r) {
    std::vector<Field> row = {CategoryField(rng, {"p", "q"}),        {"yes", "yes"},     NumberField(rng),
                              CategoryField(rng, {"1", "x", "y z"}), {"\"e,f\"", "e,f"}, NumberField(rng)};
    std::vector<std::string_view> values;
    for (size_t i = 0; i < row.size(); ++i) {
      raw += (i ? "," : "") + row[i].csv;
      values.push_back(row[i].value);
    }
    raw += "\n";
    std::vector<float> features(forest->n_features);
    ASSERT_TRUE(encoder->EncodeRow(values, features.data()).ok());
    for (int32_t f = 0; f < forest->n_features; ++f)
      expanded += (f ? "," : "") + (std::isnan(features[f]) ? std::string() : fmt::format("{}", features[f]));
    expanded += "\n";
  }
  ASSERT_TRUE(WriteFileAtomically(Path("raw.csv"), raw).ok());
  ASSERT_TRUE(WriteFileAtomically(Path("expanded.csv"), expanded).ok());

  // The expanded file is read by feature name (no encoding), the raw one
  // through the encoding; both with several chunks on several threads.
  auto plain = std::make_shared<Forest>(*forest);
  plain->encoding = {};
  EXPECT_TRUE(InputSchemaFor(*plain).input_columns.empty());
  EXPECT_EQ(InputSchemaFor(*forest).input_columns.size(), 4u);
  PredictOptions opt;
  opt.proba = true;
  opt.threads = 3;
  opt.chunk_bytes = 4096;
  auto by_raw = FilePredictor::Create(forest, opt);
  auto by_features = FilePredictor::Create(plain, opt);
  ASSERT_TRUE(by_raw.ok() && by_features.ok());
  auto s1 = (*by_raw)->Run(Path("raw.csv"), Path("raw.out"));
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  auto s2 = (*by_features)->Run(Path("expanded.csv"), Path("expanded.out"));
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(s1->rows, 4000u);
  EXPECT_EQ(*ReadFile(Path("raw.out")), *ReadFile(Path("expanded.out")));
}

TEST_F(InputSchemaTest, NumericOnlyEncodingReadsByFeatureName) {
  Forest f = *EncodedForest(5);
  f.encoding.columns = {{"a", 0, {}}, {"b", 1, {}}};
  EXPECT_TRUE(InputSchemaFor(f).input_columns.empty());
  EXPECT_EQ(InputSchemaFor(f).feature_names, f.feature_names);
}

TEST_F(InputSchemaTest, RawInputErrorsNameTheFile) {
  auto forest = EncodedForest(4);
  ASSERT_TRUE(WriteFileAtomically(Path("bad.csv"), "a,b,c,d\n1,2,x,p\nold,2,x,p\n").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("short.csv"), "a,b,d\n1,2,p\n").ok());
  auto p = FilePredictor::Create(forest, PredictOptions{});
  ASSERT_TRUE(p.ok());
  auto bad = (*p)->Run(Path("bad.csv"), Path("bad.out"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), Path("bad.csv") + ":3:1: not a number: 'old' in column 1 ('a')");
  EXPECT_FALSE(fs::exists(Path("bad.out")));
  auto short_ = (*p)->Run(Path("short.csv"), Path("short.out"));
  ASSERT_FALSE(short_.ok());
  EXPECT_NE(
      short_.status().ToString().find("short.csv:1: the header lacks 1 of the model's 4 input columns: c"),
      std::string::npos)
      << short_.status().ToString();
}

}  // namespace
}  // namespace fb
