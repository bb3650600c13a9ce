// Split finding against hand-computed cases (verified with scikit-learn's
// DecisionTreeClassifier/Regressor(max_depth=1) on the same data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "train/binning.h"
#include "train/forest_trainer.h"
#include "train/rng.h"
#include "train/training_data.h"

namespace fb::train {
namespace {

// One feature x = 0, 1, ..., n-1.
TrainingData OneFeature(int n) {
  TrainingData d;
  d.n_rows = n;
  d.n_features = 1;
  d.feature_names = {"x"};
  d.encoding.columns = {{"x", 0, {}}};
  for (int i = 0; i < n; ++i) d.x.push_back(static_cast<float>(i));
  return d;
}

TrainingData Classes(const std::vector<int32_t>& y, int k) {
  TrainingData d = OneFeature(static_cast<int>(y.size()));
  d.kind = ModelKind::kClassifier;
  for (int c = 0; c < k; ++c) d.class_labels.push_back(std::to_string(c));
  d.labels_are_integers = true;
  d.y_class = y;
  return d;
}

TrainParams Stump(Criterion c) {
  TrainParams p;
  p.n_estimators = 1;
  p.max_depth = 1;
  p.bootstrap = 0;
  p.max_features = {MaxFeatures::Kind::kAll, 0};
  p.criterion = c;
  p.threads = 1;
  return p;
}

TEST(SplitTest, GiniPicksTheLowestWeightedGini) {
  // Weighted gini of the cuts after rows 1..7: 4.57 3.67 4.53 4.50 3.73 4.67 4.57.
  auto d = Classes({2, 2, 0, 0, 2, 1, 1, 0}, 3);
  auto f = TrainForest(d, Stump(Criterion::kGini));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const Tree& t = f->trees[0];
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_EQ(t.nodes[0].feature, 0);
  EXPECT_FLOAT_EQ(t.nodes[0].threshold, 1.5f);
  // Left leaf: rows 0, 1 (class 2); right: 0,0,2,1,1,0 -> 3/6, 2/6, 1/6.
  const Node& root = t.nodes[0];
  EXPECT_DOUBLE_EQ(t.values[root.left * 3 + 2], 1.0);
  EXPECT_DOUBLE_EQ(t.values[root.right * 3 + 0], 0.5);
  EXPECT_NEAR(t.values[root.right * 3 + 1], 2.0 / 6, 1e-12);
  EXPECT_NEAR(t.values[root.right * 3 + 2], 1.0 / 6, 1e-12);
}

TEST(SplitTest, EntropyPicksTheLowestWeightedEntropy) {
  // Weighted entropy: 10.90 8.75 10.36 10.00 7.61 10.75 10.90 -> cut after row 4.
  auto d = Classes({2, 2, 0, 0, 2, 1, 1, 0}, 3);
  auto f = TrainForest(d, Stump(Criterion::kEntropy));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FLOAT_EQ(f->trees[0].nodes[0].threshold, 4.5f);
}

TEST(SplitTest, SquaredErrorPicksTheLowestSse) {
  TrainingData d = OneFeature(6);
  d.kind = ModelKind::kRegressor;
  d.y_value = {1, 1, 1, 10, 10, 20};
  auto f = TrainForest(d, Stump(Criterion::kSquaredError));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const Tree& t = f->trees[0];
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_FLOAT_EQ(t.nodes[0].threshold, 2.5f);
  EXPECT_DOUBLE_EQ(t.values[t.nodes[0].left], 1.0);
  EXPECT_NEAR(t.values[t.nodes[0].right], 40.0 / 3, 1e-12);
  // One split: all the importance on the one feature.
  EXPECT_DOUBLE_EQ(f->training.feature_importances[0], 1.0);
}

TEST(SplitTest, MinSamplesLeafMovesTheCut) {
  // With min_samples_leaf 3 the gini cut after row 1 is invalid; the best
  // valid one (rows 3..5) is after row 4 (3.73) -> threshold 4.5.
  auto d = Classes({2, 2, 0, 0, 2, 1, 1, 0}, 3);
  TrainParams p = Stump(Criterion::kGini);
  p.min_samples_leaf = 3;
  auto f = TrainForest(d, p);
  ASSERT_TRUE(f.ok());
  EXPECT_FLOAT_EQ(f->trees[0].nodes[0].threshold, 4.5f);
}

TEST(SplitTest, MissingValuesGoToTheBetterSide) {
  // x: 0 1 2 NaN NaN, y: 0 0 1 1 1: the best split keeps 0,1 left and sends
  // 2 and the NaN rows right.
  TrainingData d;
  d.n_rows = 5;
  d.n_features = 1;
  d.encoding.columns = {{"x", 0, {}}};
  d.x = {0, 1, 2, NAN, NAN};
  d.kind = ModelKind::kClassifier;
  d.class_labels = {"a", "b"};
  d.y_class = {0, 0, 1, 1, 1};
  auto f = TrainForest(d, Stump(Criterion::kGini));
  ASSERT_TRUE(f.ok());
  const Node& root = f->trees[0].nodes[0];
  EXPECT_FLOAT_EQ(root.threshold, 1.5f);
  EXPECT_FALSE(root.default_left);
  // x: 0 1 NaN with y 1 0 1: NaN joins the 0 row on the left.
  d.n_rows = 3;
  d.x = {0, 1, NAN};
  d.y_class = {1, 0, 1};
  f = TrainForest(d, Stump(Criterion::kGini));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->trees[0].nodes[0].default_left);
}

TEST(BinningTest, ThresholdsSeparateNeighbouringValues) {
  TrainingData d;
  d.n_rows = 6;
  d.n_features = 1;
  d.x = {0.1f, 0.2f, 0.2f, 1e30f, -3.0f, NAN};
  BinnedData b = BinFeatures(d, {}, 255, 1, 0);
  const FeatureBins& fb = b.features[0];
  ASSERT_EQ(fb.n_bins, 4);
  for (size_t i = 0; i + 1 < fb.bin_max.size(); ++i) {
    EXPECT_LE(fb.bin_max[i], fb.thresholds[i]);
    EXPECT_GT(fb.bin_min[i + 1], fb.thresholds[i]);
  }
  EXPECT_EQ(b.at(4, 0), 0);
  EXPECT_EQ(b.at(0, 0), 1);
  EXPECT_EQ(b.at(2, 0), 2);
  EXPECT_EQ(b.at(3, 0), 3);
  EXPECT_EQ(b.at(5, 0), fb.missing_bin());
}

TEST(BinningTest, ManyValuesGetQuantileBins) {
  TrainingData d;
  d.n_rows = 10000;
  d.n_features = 1;
  for (int i = 0; i < d.n_rows; ++i) d.x.push_back(static_cast<float>(i % 1000));
  BinnedData b = BinFeatures(d, {}, 16, 1, 0);
  const FeatureBins& fb = b.features[0];
  EXPECT_EQ(fb.n_bins, 16);
  std::vector<int> count(17, 0);
  for (int64_t i = 0; i < d.n_rows; ++i) {
    ++count[b.at(i, 0)];
    // Every value's bin agrees with the thresholds.
    uint8_t bin = b.at(i, 0);
    float v = d.x[i];
    if (bin > 0) {
      EXPECT_GT(v, fb.thresholds[bin - 1]);
    }
    if (bin + 1 < fb.n_bins) {
      EXPECT_LE(v, fb.thresholds[bin]);
    }
  }
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(count[i], 10000 / 16, 100) << i;
}

TEST(BinningTest, EveryBinAgreesWithBinOfWhateverTheThreads) {
  // Negative, zero of both signs, infinities, NaN, duplicates, values equal
  // to cuts; more distinct values than bins in some features.
  TrainingData d;
  d.n_rows = 30000;
  d.n_features = 5;
  Rng rng(9);
  // 3 and the float after it: the cut between them is 3 itself, so values
  // equal to a cut occur.
  const float specials[] = {-0.0f, 0.0f, INFINITY, -INFINITY, NAN, 3.0f, std::nextafter(3.0f, 4.0f), 1e-40f};
  for (int32_t f = 0; f < d.n_features; ++f) {
    for (int64_t i = 0; i < d.n_rows; ++i) {
      float v;
      if (rng.Below(20) == 0) {
        v = specials[rng.Below(8)];
      } else if (f == 0) {
        v = static_cast<float>(rng.Below(40)) - 20;  // few distinct values: one bin each
      } else {
        v = static_cast<float>((rng.Uniform() - 0.5) * std::pow(10.0, f));
      }
      d.x.push_back(v);
    }
  }
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < d.n_rows; i += 3) subset.push_back(i);
  for (int max_bins : {255, 7}) {
    BinnedData one = BinFeatures(d, subset, max_bins, 1, 4, 5000);
    BinnedData three = BinFeatures(d, subset, max_bins, 3, 4, 5000);
    EXPECT_EQ(one.bins, three.bins);
    ASSERT_EQ(one.n_rows, static_cast<int64_t>(subset.size()));
    for (int32_t f = 0; f < d.n_features; ++f) {
      const FeatureBins& fb = one.features[f];
      EXPECT_EQ(fb.thresholds, three.features[f].thresholds);
      EXPECT_TRUE(std::is_sorted(fb.thresholds.begin(), fb.thresholds.end()));
      if (f == 0 && max_bins == 255) {
        EXPECT_NE(std::find(fb.thresholds.begin(), fb.thresholds.end(), 3.0f), fb.thresholds.end());
      }
      // Every value is binned as BinOf (lower_bound) bins it, cuts themselves included.
      for (size_t i = 0; i < subset.size(); ++i)
        ASSERT_EQ(one.at(i, f), BinOf(fb, d.x[f * d.n_rows + subset[i]])) << f << " " << i;
    }
  }
}

}  // namespace
}  // namespace fb::train
