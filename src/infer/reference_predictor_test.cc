#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "infer/predictor.h"
#include "model/forest_builder.h"

namespace fb {
namespace {

// Two-class forest of two stumps on feature 0 (t=0.5) and feature 1 (t=2).
std::shared_ptr<const Forest> TwoStumps() {
  Forest f;
  f.kind = ModelKind::kClassifier;
  f.n_features = 2;
  f.n_outputs = 2;
  f.leaf_width = 2;
  f.class_labels = {"0", "1"};
  for (int feat : {0, 1}) {
    Tree t;
    t.nodes.resize(3);
    t.nodes[0] = Node{1, 2, feat, feat == 0 ? 0.5f : 2.0f, /*default_left=*/false};
    t.values = {0, 0, 1.0, 0.0, 0.25, 0.75};
    f.trees.push_back(t);
  }
  auto r = BuildForest(std::move(f));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::make_shared<const Forest>(std::move(r).value());
}

TEST(ReferencePredictorTest, SumsLeavesAndFinalizeAverages) {
  auto f = TwoStumps();
  auto p = MakeReferencePredictor(f);
  float x[] = {0.5f, 2.0f,   // left, left
               0.6f, 1.0f,   // right, left
               NAN,  3.0f};  // NaN goes right, right
  double raw[6];
  p->PredictRaw(x, 3, raw);
  EXPECT_DOUBLE_EQ(raw[0], 2.0);
  EXPECT_DOUBLE_EQ(raw[1], 0.0);
  EXPECT_DOUBLE_EQ(raw[2], 1.25);
  EXPECT_DOUBLE_EQ(raw[3], 0.75);
  EXPECT_DOUBLE_EQ(raw[4], 0.5);
  EXPECT_DOUBLE_EQ(raw[5], 1.5);
  Predictions out;
  Finalize(*f, raw, 3, OutputKind::kPrediction, &out);
  ASSERT_EQ(out.n_cols, 2);
  EXPECT_DOUBLE_EQ(out.values[2], 0.625);
  EXPECT_EQ(out.label, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(FindMissing(x, 3, 2), 4);
  EXPECT_EQ(FindMissing(x, 2, 2), -1);
}

TEST(FinalizeTest, TiesGoToFirstClassAndSigmoidBinary) {
  Forest f;
  f.kind = ModelKind::kClassifier;
  f.n_outputs = 1;
  f.class_labels = {"no", "yes"};
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0.0};
  f.link = Link::kSigmoid;
  f.trees.resize(1);
  double raw[] = {0.0, 2.0};
  Predictions out;
  Finalize(f, raw, 2, OutputKind::kPrediction, &out);
  EXPECT_DOUBLE_EQ(out.values[0], 0.5);
  EXPECT_DOUBLE_EQ(out.values[1], 0.5);
  EXPECT_EQ(out.label[0], 0);  // tie
  EXPECT_NEAR(out.values[3], 1.0 / (1.0 + std::exp(-2.0)), 1e-15);
  EXPECT_EQ(out.label[1], 1);
  Finalize(f, raw, 2, OutputKind::kMargin, &out);
  EXPECT_EQ(out.n_cols, 1);
  EXPECT_DOUBLE_EQ(out.values[1], 2.0);
}

// Averaged or summed outputs with the identity link (scikit-learn's forests,
// 1 to 3 outputs, classifiers and regressors, both output kinds): each value
// is the sum divided by the tree count (or the sum), bit for bit, and the
// label the first largest value (ties and NaN included).
TEST(FinalizeTest, MeansAndSumsAsTheyAre) {
  const double kValues[] = {0.0, 0.25, 0.5, 1.0, 3.0, 1e-300, -2.5, NAN, 0.1, 7.0 / 3.0};
  uint32_t seed = 17;
  for (int no = 1; no <= 3; ++no) {
    for (Aggregate agg : {Aggregate::kMean, Aggregate::kSum}) {
      for (bool classifier : {true, false}) {
        if (classifier && no == 1) continue;  // one output and two classes is binary_single's path
        Forest f;
        f.kind = classifier ? ModelKind::kClassifier : ModelKind::kRegressor;
        f.n_outputs = no;
        if (classifier)
          for (int k = 0; k < no; ++k) f.class_labels.push_back(std::to_string(k));
        f.aggregate = agg;
        f.link = Link::kIdentity;
        f.trees.resize(7);
        const size_t n = 50;
        std::vector<double> raw(n * no);
        for (double& v : raw) {
          seed = seed * 1664525u + 1013904223u;
          v = kValues[(seed >> 8) % (sizeof(kValues) / sizeof(kValues[0]))];
        }
        for (OutputKind kind : {OutputKind::kPrediction, OutputKind::kMargin}) {
          Predictions out;
          out.label.assign(3 * n, 99);  // a bigger earlier block: every label is written again
          Finalize(f, raw.data(), n, kind, &out);
          ASSERT_EQ(out.n_cols, no);
          ASSERT_EQ(out.values.size(), n * no);
          ASSERT_EQ(out.label.size(), classifier ? n : 0);
          for (size_t r = 0; r < n; ++r) {
            int32_t best = 0;
            for (int k = 0; k < no; ++k) {
              const double want = agg == Aggregate::kMean ? raw[r * no + k] / 7.0 : raw[r * no + k];
              const double got = out.values[r * no + k];
              EXPECT_EQ(std::memcmp(&got, &want, sizeof(double)), 0) << no << " " << r << " " << k;
              if (want > (agg == Aggregate::kMean ? raw[r * no + best] / 7.0 : raw[r * no + best])) best = k;
            }
            if (classifier) {
              EXPECT_EQ(out.label[r], best) << no << " " << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace fb
