#include "model/forest_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace fb {
namespace {

Forest Stump() {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = 2;
  Tree t;
  t.nodes.resize(3);
  t.nodes[0] = Node{1, 2, 1, 0.5f};
  t.values = {0.0, 1.0, 2.0};
  f.trees.push_back(t);
  return f;
}

TEST(ForestBuilderTest, AcceptsValidForest) {
  auto r = BuildForest(Stump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->base_margin.size(), 1u);
  EXPECT_EQ(ShapeOf(r->trees[0]).depth, 1);
  EXPECT_EQ(ShapeOf(r->trees[0]).n_leaves, 2);
}

TEST(ForestBuilderTest, RejectsBadChildFeatureCycleAndValues) {
  Forest f = Stump();
  f.trees[0].nodes[0].right = 7;
  EXPECT_NE(BuildForest(f).status().message().find("child index out of range"), std::string::npos);
  f = Stump();
  f.trees[0].nodes[0].feature = 2;
  EXPECT_NE(BuildForest(f).status().message().find("feature 2 out of range"), std::string::npos);
  f = Stump();
  f.trees[0].nodes[1] = Node{0, 2, 0, 1.0f};  // points back to the root
  EXPECT_FALSE(BuildForest(f).ok());
  f = Stump();
  f.trees[0].values.pop_back();
  EXPECT_FALSE(BuildForest(f).ok());
  f = Stump();
  f.trees[0].nodes[0].threshold = std::nanf("");
  EXPECT_FALSE(BuildForest(f).ok());
  f = Stump();
  f.trees.clear();
  EXPECT_FALSE(BuildForest(f).ok());
}

TEST(ForestBuilderTest, ChecksFloat64InputMaps) {
  Forest f = Stump();
  f.float64_features.resize(2);
  f.float64_features[1].cuts = {0.1, 0.35};
  EXPECT_TRUE(BuildForest(f).ok());
  f.float64_features.resize(1);
  EXPECT_NE(BuildForest(f).status().message().find("1 features for 2"), std::string::npos);
  f.float64_features.resize(2);
  f.float64_features[1].cuts = {0.35, 0.35};
  EXPECT_NE(BuildForest(f).status().message().find("not ascending and distinct"), std::string::npos);
  f.float64_features[1].cuts = {std::nan("")};
  EXPECT_FALSE(BuildForest(f).ok());
  f.float64_features[1] = Float64Feature{true, {}, {0, 256}};
  EXPECT_NE(BuildForest(f).status().message().find("in [0, 256)"), std::string::npos);
  // A numeric split on a feature the map reads as categorical.
  f.float64_features[1] = Float64Feature{true, {}, {0, 3}};
  EXPECT_NE(BuildForest(f).status().message().find("numeric split on feature 1"), std::string::npos);
}

TEST(ForestBuilderTest, ClassifierLabelsMustMatchOutputs) {
  Forest f = Stump();
  f.kind = ModelKind::kClassifier;
  f.class_labels = {"a", "b", "c"};
  EXPECT_FALSE(BuildForest(f).ok());
  f.class_labels = {"a", "b"};  // binary with one output: allowed
  EXPECT_TRUE(BuildForest(f).ok());
}

TEST(Float32AtOrBelowTest, KeepsEveryDecision) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> d(-1e6, 1e6);
  for (int i = 0; i < 100000; ++i) {
    double t = d(rng) * (i % 3 == 0 ? 1e-6 : 1.0);
    float f = Float32AtOrBelow(t);
    EXPECT_LE(static_cast<double>(f), t);
    float above = std::nextafter(f, std::numeric_limits<float>::infinity());
    EXPECT_GT(static_cast<double>(above), t);
  }
  EXPECT_EQ(Float32AtOrBelow(0.5), 0.5f);
  EXPECT_EQ(Float32AtOrBelow(1e300), std::numeric_limits<float>::max());
  EXPECT_EQ(Float32AtOrBelow(-1e300), -std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace fb
