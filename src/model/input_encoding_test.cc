#include "model/input_encoding.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/forest_builder.h"

namespace fb {
namespace {

Forest OneLeafForest(int32_t n_features) {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = n_features;
  Tree t;
  t.nodes.resize(1);
  t.values = {1.0};
  f.trees.push_back(t);
  return f;
}

TEST(InputEncodingTest, NumbersAndMissingTokens) {
  float v = 0;
  EXPECT_TRUE(ParseNumber(" 1.5 ", &v));
  EXPECT_EQ(v, 1.5f);
  EXPECT_TRUE(ParseNumber("+2e3", &v));
  EXPECT_EQ(v, 2000.0f);
  EXPECT_FALSE(ParseNumber("1.5x", &v));
  EXPECT_FALSE(ParseNumber("NA", &v));
  EXPECT_TRUE(IsMissingToken(""));
  EXPECT_TRUE(IsMissingToken(" nan"));
  EXPECT_FALSE(IsMissingToken("0"));
}

TEST(InputEncodingTest, EncodesByNameWithOneHotColumns) {
  InputEncoding e;
  e.columns = {{"n", 0, {}}, {"c", 1, {"a", "b"}}};
  auto enc = InputEncoder::Make(e, 3, {"c", "ignored", "n"});
  ASSERT_TRUE(enc.ok());
  std::vector<float> out(3);
  ASSERT_TRUE(enc->EncodeRow({"b", "zz", "7"}, out.data()).ok());
  EXPECT_EQ(out, (std::vector<float>{7, 0, 1}));
  ASSERT_TRUE(enc->EncodeRow({"q", "zz", ""}, out.data()).ok());
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 0);
  Status st = enc->EncodeRow({"a", "zz", "x"}, out.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
}

TEST(InputEncodingTest, BuildForestValidatesTheEncoding) {
  Forest f = OneLeafForest(3);
  f.encoding.columns = {{"n", 0, {}}, {"c", 1, {"a", "b"}}};
  EXPECT_TRUE(BuildForest(f).ok());
  Forest gap = f;
  gap.encoding.columns[1].categories = {"a"};
  EXPECT_FALSE(BuildForest(gap).ok());  // feature 2 filled by nothing
  Forest overlap = f;
  overlap.encoding.columns[1].first_feature = 0;
  EXPECT_FALSE(BuildForest(overlap).ok());
  Forest dup = f;
  dup.encoding.columns[1].name = "n";
  EXPECT_FALSE(BuildForest(dup).ok());
  Forest cats = f;
  cats.encoding.columns[1].categories = {"a", "a"};
  EXPECT_FALSE(BuildForest(cats).ok());
  Forest imp = f;
  imp.training.feature_importances = {0.5, 0.5};
  EXPECT_FALSE(BuildForest(imp).ok());
}

}  // namespace
}  // namespace fb
