#include "train/tune.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "infer/compiled_io.h"
#include "infer/predictor.h"
#include "model/import/native_format.h"
#include "train/forest_trainer.h"
#include "train/rng.h"

namespace fb::train {
namespace {

TrainingData Xor(int64_t n, uint64_t seed) {
  TrainingData d;
  d.n_rows = n;
  d.n_features = 3;
  d.kind = ModelKind::kClassifier;
  d.class_labels = {"no", "yes"};
  Rng rng(seed);
  d.x.resize(3 * n);
  for (auto& v : d.x) v = static_cast<float>(rng.Uniform());
  for (int32_t f = 0; f < 3; ++f) {
    d.feature_names.push_back("x" + std::to_string(f));
    d.encoding.columns.push_back({"x" + std::to_string(f), f, {}});
  }
  for (int64_t r = 0; r < n; ++r) d.y_class.push_back((d.x[r] > 0.5f) != (d.x[n + r] > 0.5f));
  return d;
}

TEST(TuneTest, ParsesTheGridAsACartesianProduct) {
  auto g = ParseGrid("max_depth=5,10,none; trees=100,200");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->size(), 6u);
  EXPECT_EQ((*g)[0], (GridPoint{{"max_depth", "5"}, {"trees", "100"}}));
  EXPECT_EQ((*g)[5], (GridPoint{{"max_depth", "none"}, {"trees", "200"}}));
  EXPECT_FALSE(ParseGrid("max_depth=five").ok());
  EXPECT_FALSE(ParseGrid("colour=red").ok());
  EXPECT_FALSE(ParseGrid("").ok());
}

TEST(TuneTest, PicksTheDepthThatFitsXor) {
  // XOR needs depth >= 2 (greedy splits: deeper): depth 1 is no better than chance.
  TrainingData d = Xor(1200, 1);
  auto g = ParseGrid("max_depth=1,none;n_estimators=10");
  ASSERT_TRUE(g.ok());
  TrainParams base;
  base.threads = 2;
  base.max_features = {MaxFeatures::Kind::kAll, 0};
  auto r = Tune(d, base, *g, 3, 2, Scoring::kRocAuc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->best, 1u);
  EXPECT_LT(r->mean[0].roc_auc, 0.7);
  EXPECT_GT(r->mean[1].roc_auc, 0.95);
  // Same results with one job.
  auto r1 = Tune(d, base, *g, 3, 1, Scoring::kRocAuc);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->mean[1].roc_auc, r->mean[1].roc_auc);
  EXPECT_FALSE(Tune(d, base, *g, 3, 1, Scoring::kR2).ok());
}

TEST(NativeRoundTripTest, EncodingTrainingInfoAndPredictionsSurvive) {
  TrainingData d = Xor(500, 2);
  d.encoding.columns = {{"x0", 0, {}}, {"c", 1, {"p", "q"}}};  // a categorical column of width 2
  d.feature_names = {"x0", "c_p", "c_q"};
  TrainParams p;
  p.n_estimators = 5;
  auto f = TrainForest(d, p);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto bytes = SerializeNativeModel(*f);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto g = LoadNativeModel(*bytes);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->encoding.columns.size(), 2u);
  EXPECT_EQ(g->encoding.columns[1].name, "c");
  EXPECT_EQ(g->encoding.columns[1].categories, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(g->training.params, f->training.params);
  EXPECT_EQ(g->training.feature_importances, f->training.feature_importances);
  EXPECT_EQ(g->training.n_samples, 500);
  EXPECT_EQ(g->class_labels, f->class_labels);
  std::vector<float> x = RowMajor(d, {0, 1, 2, 3, 4, 5, 6, 7});
  std::vector<double> a(16), b(16);
  MakeReferencePredictor(std::make_shared<const Forest>(*f))->PredictRaw(x.data(), 8, a.data());
  MakeBestPredictor(std::make_shared<const Forest>(*g))->PredictRaw(x.data(), 8, b.data());
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(a[i], b[i], 1e-9);
}

// A trained forest (fully grown trees: deep and bitvector layouts) written
// with its compiled layout (format 1.5) reads it back, and its sums are those
// of a fresh compile, bit for bit.
TEST(NativeRoundTripTest, StoredLayoutPredictsAsAFreshCompile) {
  TrainingData d = Xor(3000, 5);
  TrainParams p;
  p.n_estimators = 8;
  auto f = TrainForest(d, p);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto forest = std::make_shared<const Forest>(std::move(f).value());
  const CompiledForest fresh = CompileForest(forest);
  bool deep = false;
  for (const TreeRun& r : fresh.runs) deep |= r.layout == TreeLayout::kDeep;
  EXPECT_TRUE(deep);
  auto bytes = SerializeNativeModel(*forest, EncodeLayoutSections(fresh));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto g = LoadNativeModel(*bytes);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto loaded = std::make_shared<const Forest>(std::move(g).value());
  auto stored = ReadStoredLayout(loaded);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  auto from_file = MakeModelPredictor(loaded);
  ASSERT_TRUE(from_file.ok());
  std::vector<int64_t> rows(500);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  std::vector<float> x = RowMajor(d, rows);
  std::vector<double> a(1000), b(1000);
  MakeBestPredictor(forest)->PredictRaw(x.data(), 500, a.data());
  (*from_file)->PredictRaw(x.data(), 500, b.data());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0);
}

}  // namespace
}  // namespace fb::train
