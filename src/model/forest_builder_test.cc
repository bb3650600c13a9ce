#include "model/forest_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "model/forest_validation.h"

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

// A random full binary tree of `internal` internal nodes, numbered in
// preorder (scikit-learn's order), breadth-first (XGBoost's) or at random
// (root kept at 0): the last one has children before their parents.
Tree RandomTree(std::mt19937_64& rng, int internal, int order, int n_features) {
  struct Shape {
    int left = -1, right = -1;
  };
  std::vector<Shape> shape(1);
  std::vector<int> leaves{0};
  for (int k = 0; k < internal; ++k) {
    size_t pick = std::uniform_int_distribution<size_t>(0, leaves.size() - 1)(rng);
    int at = leaves[pick];
    leaves.erase(leaves.begin() + static_cast<std::ptrdiff_t>(pick));
    shape[at].left = static_cast<int>(shape.size());
    shape[at].right = static_cast<int>(shape.size()) + 1;
    leaves.push_back(shape[at].left);
    leaves.push_back(shape[at].right);
    shape.resize(shape.size() + 2);
  }
  const int n = static_cast<int>(shape.size());
  std::vector<int> number(n, -1), seq;
  if (order == 0) {  // preorder
    std::vector<int> stack{0};
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      seq.push_back(i);
      if (shape[i].left >= 0) stack.push_back(shape[i].right), stack.push_back(shape[i].left);
    }
  } else {  // breadth-first (the order built above), optionally shuffled after the root
    for (int i = 0; i < n; ++i) seq.push_back(i);
    if (order == 2) std::shuffle(seq.begin() + 1, seq.end(), rng);
  }
  for (int k = 0; k < n; ++k) number[seq[k]] = k;
  Tree t;
  t.nodes.resize(n);
  t.values.resize(n);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int i = 0; i < n; ++i) {
    Node& nd = t.nodes[number[i]];
    if (shape[i].left >= 0) {
      nd.left = number[shape[i].left];
      nd.right = number[shape[i].right];
      nd.feature = std::uniform_int_distribution<int>(0, n_features - 1)(rng);
      nd.threshold = u(rng);
    }
    t.values[number[i]] = u(rng);
  }
  return t;
}

// The depth-first walk (forest_validation.h) is the oracle: ValidateTree's
// one-scan check must accept exactly the trees the walk accepts, and a
// refusal must read as the walk's.
TEST(ForestBuilderTest, OneScanValidationAgreesWithTheWalk) {
  std::mt19937_64 rng(17);
  Forest f = Stump();
  f.n_features = 4;
  f.categories = {1, 3, 5, 2};
  int accepted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    const int internal = std::uniform_int_distribution<int>(0, 12)(rng);
    Tree t = RandomTree(rng, internal, round % 3, f.n_features);
    const int n = static_cast<int>(t.nodes.size());
    auto any = [&] { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    // Zero to two corruptions of every kind the walk refuses.
    const int corruptions = std::uniform_int_distribution<int>(0, 2)(rng);
    for (int c = 0; c < corruptions; ++c) {
      Node& nd = t.nodes[any()];
      switch (std::uniform_int_distribution<int>(0, 11)(rng)) {
        case 0: nd.left = any(); break;  // a cycle, a shared child or an orphan
        case 1: nd.right = any(); break;
        case 2: nd.right = std::uniform_int_distribution<int>(-3, n + 2)(rng); break;
        case 3: nd.left = nd.right; break;
        case 4: nd.feature = std::uniform_int_distribution<int>(-1, f.n_features)(rng); break;
        case 5: nd.threshold = std::nanf(""); break;
        case 6: t.values[static_cast<size_t>(any())] = std::nan(""); break;
        case 7:
          nd.categorical = true;
          nd.cat_begin = std::uniform_int_distribution<uint32_t>(0, 4)(rng);
          nd.cat_count = std::uniform_int_distribution<uint32_t>(0, 4)(rng);
          break;
        case 8: nd.zero_missing = true; break;
        case 9: nd.cat_truncate = true; break;
        case 10:  // an extra node no one points to
          t.nodes.emplace_back();
          t.values.push_back(0.5);
          break;
        case 11: t.output = std::uniform_int_distribution<int>(-1, 1)(rng); break;
      }
    }
    Status want = ValidateTreeByWalk(f, t, 3);
    Status got = ValidateTree(f, t, 3);
    ASSERT_EQ(got.ok(), want.ok()) << want.ToString();
    ASSERT_EQ(got.ToString(), want.ToString());
    (want.ok() ? accepted : refused) += 1;
  }
  // Both outcomes were exercised many times.
  EXPECT_GT(accepted, 5000);
  EXPECT_GT(refused, 5000);
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
