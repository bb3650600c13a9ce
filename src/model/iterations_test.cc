#include "model/iterations.h"

#include <gtest/gtest.h>

#include "model/forest_builder.h"

namespace fb {
namespace {

// 4 rounds of 2 trees; tree i's single leaf holds i.
Forest Boosted(int32_t best = -1, bool use_best = false) {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = 1;
  f.n_outputs = 2;
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0, 0};
  f.trees_per_iteration = 2;
  f.best_iteration = best;
  f.predict_uses_best_iteration = use_best;
  for (int i = 0; i < 8; ++i) {
    Tree t;
    t.nodes.resize(1);
    t.values = {double(i)};
    t.output = i % 2;
    f.trees.push_back(t);
  }
  return *BuildForest(f);
}

TEST(IterationsTest, Parse) {
  auto r = ParseIterationRange("2:5");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->begin, 2);
  EXPECT_EQ(r->end, 5);
  EXPECT_EQ(ParseIterationRange("best")->begin, -1);
  EXPECT_EQ(ParseIterationRange("all")->end, 0);
  for (const char* bad : {"", "3", "1:", ":2", "-1:2", "a:b", "1:2:3", "1: 2"})
    EXPECT_EQ(ParseIterationRange(bad).status().code(), StatusCode::kInvalidArgument) << bad;
}

TEST(IterationsTest, SliceKeepsWholeRounds) {
  auto f = SliceIterations(Boosted(2, true), {1, 3});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->trees.size(), 4u);
  EXPECT_EQ(f->trees[0].values[0], 2.0);
  EXPECT_EQ(f->trees[3].values[0], 5.0);
  EXPECT_EQ(f->best_iteration, 1);  // round 2 is now round 1
  EXPECT_FALSE(f->predict_uses_best_iteration);
  f = SliceIterations(Boosted(), {2, 0});  // to the end
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->trees.size(), 4u);
  EXPECT_EQ(SliceIterations(Boosted(), {0, 0})->trees.size(), 8u);
  for (IterationRange bad : {IterationRange{0, 5}, IterationRange{3, 3}, IterationRange{4, 0}})
    EXPECT_EQ(SliceIterations(Boosted(), bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(IterationsTest, DefaultFollowsTheSavingApi) {
  EXPECT_EQ(SelectIterations(Boosted(1, false), nullptr)->trees.size(), 8u);  // Booster.predict
  EXPECT_EQ(SelectIterations(Boosted(1, true), nullptr)->trees.size(), 4u);   // sklearn wrapper
  IterationRange all{0, 0}, best{-1, 0};
  EXPECT_EQ(SelectIterations(Boosted(1, true), &all)->trees.size(), 8u);
  EXPECT_EQ(SelectIterations(Boosted(1, false), &best)->trees.size(), 4u);
  EXPECT_FALSE(SelectIterations(Boosted(), &best).ok());
}

TEST(IterationsTest, ForestsWithoutRoundsRejectRanges) {
  Forest f = Boosted();
  f.trees_per_iteration = 0;
  IterationRange r{0, 1};
  EXPECT_EQ(SelectIterations(f, &r).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(SelectIterations(f, nullptr).ok());
}

TEST(IterationsTest, BuildForestChecksRoundFields) {
  Forest f = Boosted();
  f.trees_per_iteration = 3;
  EXPECT_FALSE(BuildForest(f).ok());
  f = Boosted();
  f.best_iteration = 4;
  EXPECT_FALSE(BuildForest(f).ok());
  f = Boosted();
  f.predict_uses_best_iteration = true;
  EXPECT_FALSE(BuildForest(f).ok());
  f = Boosted();
  f.categories = {-1};
  EXPECT_FALSE(BuildForest(f).ok());
}

}  // namespace
}  // namespace fb
