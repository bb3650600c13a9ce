#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "model/forest_builder.h"
#include "model/input_encoding.h"
#include "train/evaluation.h"
#include "train/forest_trainer.h"
#include "train/raw_table.h"
#include "train/rng.h"
#include "train/training_data.h"

namespace fb::train {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / ("fb_train_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

// A two-class problem: class 1 when x0 + x1 > 1 (x uniform in [0,1)), with
// `noise` of labels flipped, plus `n_noise` irrelevant features.
TrainingData Synthetic(int64_t n, int n_noise, double noise, uint64_t seed) {
  TrainingData d;
  d.n_rows = n;
  d.n_features = 2 + n_noise;
  d.kind = ModelKind::kClassifier;
  d.class_labels = {"0", "1"};
  d.labels_are_integers = true;
  d.x.resize(static_cast<size_t>(d.n_features) * n);
  Rng rng(seed);
  for (int32_t f = 0; f < d.n_features; ++f) {
    d.feature_names.push_back("f" + std::to_string(f));
    d.encoding.columns.push_back({"f" + std::to_string(f), f, {}});
    for (int64_t r = 0; r < n; ++r) d.x[f * n + r] = static_cast<float>(rng.Uniform());
  }
  for (int64_t r = 0; r < n; ++r) {
    int32_t y = d.x[r] + d.x[n + r] > 1.0f;
    if (rng.Uniform() < noise) y = 1 - y;
    d.y_class.push_back(y);
  }
  return d;
}

// Rows of `data` reaching each leaf of `tree` (training rows walked down).
std::map<int32_t, int64_t> LeafCounts(const Tree& tree, const TrainingData& d) {
  std::map<int32_t, int64_t> c;
  for (int64_t r = 0; r < d.n_rows; ++r) {
    int32_t i = 0;
    while (!tree.nodes[i].is_leaf()) {
      const Node& nd = tree.nodes[i];
      float v = d.at(r, nd.feature);
      i = (std::isnan(v) ? nd.default_left : v <= nd.threshold) ? nd.left : nd.right;
    }
    ++c[i];
  }
  return c;
}

TEST(RawTableTest, TypesQuotesAndMissing) {
  auto path = WriteTemp("t.csv",
                        "age,job,\"y\"\n"
                        "30,\"admin, senior\",no\n"
                        "NA,student,yes\r\n"
                        "45,,no\n"
                        "\n"
                        "  50 ,\"say \"\"hi\"\"\",yes\n");
  auto t = ReadCsvTable(path, {"y"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->n_rows, 4);
  ASSERT_EQ(t->columns.size(), 3u);
  EXPECT_TRUE(t->columns[0].numeric);
  EXPECT_TRUE(std::isnan(t->columns[0].values[1]));
  EXPECT_EQ(t->columns[0].values[3], 50.0f);
  EXPECT_FALSE(t->columns[1].numeric);
  EXPECT_EQ(t->columns[1].categories, (std::vector<std::string>{"admin, senior", "say \"hi\"", "student"}));
  EXPECT_EQ(t->columns[1].codes, (std::vector<int32_t>{0, 2, -1, 1}));
  EXPECT_EQ(t->columns[2].name, "y");
  EXPECT_EQ(t->columns[2].categories, (std::vector<std::string>{"no", "yes"}));
}

TEST(RawTableTest, RaggedRowIsAnErrorWithItsLine) {
  auto path = WriteTemp("bad.csv", "a,b\n1,2\n3\n");
  auto t = ReadCsvTable(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().line(), 3u);
}

// Parquet tables (the DuckDB-written equality with CSV is tests/parquet/run_interop.sh): found by
// name or by the PAR1 magic; a broken one is an error naming the file; a CSV is still a CSV.
TEST(RawTableTest, ParquetByNameOrMagicAndBrokenFilesNamed) {
  std::ifstream in(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/parquet/duckdb-zstd-V2.parquet",
                   std::ios::binary);
  ASSERT_TRUE(in) << "the committed DuckDB corpus file";
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto named = ReadTable(WriteTemp("t.parquet", bytes));
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_GT(named->n_rows, 0);
  EXPECT_FALSE(named->columns.empty());
  auto by_magic = ReadTable(WriteTemp("t.dat", bytes));
  ASSERT_TRUE(by_magic.ok()) << by_magic.status().ToString();
  EXPECT_EQ(by_magic->n_rows, named->n_rows);
  ASSERT_EQ(by_magic->columns.size(), named->columns.size());
  for (size_t c = 0; c < named->columns.size(); ++c) {
    EXPECT_EQ(by_magic->columns[c].name, named->columns[c].name);
    EXPECT_EQ(by_magic->columns[c].numeric, named->columns[c].numeric);
  }
  for (const std::string& broken :
       {bytes.substr(0, bytes.size() / 2), std::string("PAR1 not a footer PAR1"),
        bytes.substr(0, 4) + std::string(64, '\xff') + bytes.substr(bytes.size() - 8)}) {
    const std::string path = WriteTemp("broken.parquet", broken);
    auto t = ReadTable(path);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidData) << t.status().ToString();
    EXPECT_NE(t.status().ToString().find("broken.parquet"), std::string::npos) << t.status().ToString();
  }
  auto csv = ReadTable(WriteTemp("PAR.csv", "a,y\n1,x\n2,z\n"));
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->n_rows, 2);
}

TEST(TrainingDataTest, OneHotLikeGetDummiesAndEncoderAgrees) {
  auto path = WriteTemp("d.csv",
                        "job,age,y,city\n"
                        "b,1,0,x\n"
                        "a,2,1,\n"
                        "b,NA,1,y\n");
  auto t = ReadCsvTable(path, {"y"});
  ASSERT_TRUE(t.ok());
  auto d = MakeTrainingData(*t, "y", Task::kAuto);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, ModelKind::kClassifier);
  EXPECT_EQ(d->feature_names, (std::vector<std::string>{"age", "job_a", "job_b", "city_x", "city_y"}));
  EXPECT_EQ(d->class_labels, (std::vector<std::string>{"0", "1"}));
  // The encoder, fed the raw rows, gives the same features.
  std::vector<std::string> header = {"y", "city", "age", "job", "extra"};
  auto enc = InputEncoder::Make(d->encoding, d->n_features, header);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  std::vector<std::vector<std::string_view>> raw = {
      {"0", "x", "1", "b", "?"}, {"1", "", "2", "a", "?"}, {"1", "y", "NA", "b", "?"}};
  for (int64_t r = 0; r < 3; ++r) {
    std::vector<float> out(d->n_features);
    ASSERT_TRUE(enc->EncodeRow(raw[r], out.data()).ok());
    for (int32_t f = 0; f < d->n_features; ++f) {
      if (std::isnan(d->at(r, f))) {
        EXPECT_TRUE(std::isnan(out[f]));
      } else {
        EXPECT_EQ(out[f], d->at(r, f)) << r << " " << f;
      }
    }
  }
  // Unseen category: all indicators zero.
  std::vector<float> out(d->n_features, -1);
  ASSERT_TRUE(enc->EncodeRow({"0", "z", "3", "c", ""}, out.data()).ok());
  EXPECT_EQ(out, (std::vector<float>{3, 0, 0, 0, 0}));
  EXPECT_FALSE(enc->EncodeRow({"0", "x", "old", "a", ""}, out.data()).ok());
  EXPECT_FALSE(InputEncoder::Make(d->encoding, d->n_features, {"age", "job"}).ok());
}

TEST(TrainingDataTest, TaskAndLabelOrder) {
  auto path = WriteTemp("r.csv", "x,y\n1,10\n2,-1\n3,2\n4,10\n");
  auto t = ReadCsvTable(path, {"y"});
  ASSERT_TRUE(t.ok());
  auto c = MakeTrainingData(*t, "y", Task::kAuto);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, ModelKind::kClassifier);
  EXPECT_EQ(c->class_labels, (std::vector<std::string>{"-1", "2", "10"}));
  EXPECT_EQ(c->y_class, (std::vector<int32_t>{2, 0, 1, 2}));
  auto r = MakeTrainingData(*t, "y", Task::kRegression);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->y_value, (std::vector<double>{10, -1, 2, 10}));
  EXPECT_FALSE(MakeTrainingData(*t, "nope", Task::kAuto).ok());
}

TEST(TrainTest, SameSeedSameModelWhateverTheThreads) {
  TrainingData d = Synthetic(2000, 3, 0.05, 1);
  TrainParams p;
  p.n_estimators = 8;
  p.seed = 42;
  p.threads = 1;
  auto a = TrainForest(d, p);
  p.threads = 3;
  auto b = TrainForest(d, p);
  p.seed = 43;
  auto c = TrainForest(d, p);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->trees.size(), b->trees.size());
  bool differs_from_c = false;
  for (size_t t = 0; t < a->trees.size(); ++t) {
    const Tree &x = a->trees[t], &y = b->trees[t];
    ASSERT_EQ(x.nodes.size(), y.nodes.size());
    ASSERT_EQ(x.values, y.values);
    for (size_t i = 0; i < x.nodes.size(); ++i) {
      EXPECT_EQ(x.nodes[i].feature, y.nodes[i].feature);
      EXPECT_EQ(x.nodes[i].threshold, y.nodes[i].threshold);
      EXPECT_EQ(x.nodes[i].left, y.nodes[i].left);
    }
    differs_from_c |= x.values != c->trees[t].values;
  }
  EXPECT_TRUE(differs_from_c);
  EXPECT_EQ(a->training.feature_importances, b->training.feature_importances);
}

TEST(TrainTest, MaxDepthAndMinSamplesLeafAreRespected) {
  TrainingData d = Synthetic(1500, 2, 0.2, 2);
  TrainParams p;
  p.n_estimators = 4;
  p.threads = 2;
  p.bootstrap = 0;  // so every training row is in every tree
  p.max_depth = 4;
  auto f = TrainForest(d, p);
  ASSERT_TRUE(f.ok());
  for (const Tree& t : f->trees) EXPECT_LE(ShapeOf(t).depth, 4);
  EXPECT_EQ(ShapeOf(f->trees[0]).depth, 4);  // noisy labels: it does use the depth

  p.max_depth = 0;
  p.min_samples_leaf = 25;
  f = TrainForest(d, p);
  ASSERT_TRUE(f.ok());
  for (const Tree& t : f->trees) {
    for (auto [leaf, n] : LeafCounts(t, d)) EXPECT_GE(n, 25) << "leaf " << leaf;
  }
  p.min_samples_leaf = 1;
  p.min_samples_split = 400;
  f = TrainForest(d, p);
  ASSERT_TRUE(f.ok());
  for (const Tree& t : f->trees) {
    // Every internal node was reached by >= 400 rows.
    std::vector<int64_t> reach(t.nodes.size(), 0);
    for (int64_t r = 0; r < d.n_rows; ++r) {
      int32_t i = 0;
      while (true) {
        ++reach[i];
        const Node& nd = t.nodes[i];
        if (nd.is_leaf()) break;
        i = d.at(r, nd.feature) <= nd.threshold ? nd.left : nd.right;
      }
    }
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      if (!t.nodes[i].is_leaf()) {
        EXPECT_GE(reach[i], 400);
      }
    }
  }
}

TEST(TrainTest, LearnsASeparableProblem) {
  TrainingData d = Synthetic(6000, 4, 0.0, 3);
  TrainingData test = Synthetic(2000, 4, 0.0, 4);
  for (bool extra : {false, true}) {
    TrainParams p;
    p.n_estimators = 30;
    p.threads = 2;
    p.extra_trees = extra;
    auto f = TrainForest(d, p);
    ASSERT_TRUE(f.ok());
    // Evaluate on a fresh sample: stack it under the training rows.
    TrainingData both = d;
    both.n_rows = d.n_rows + test.n_rows;
    both.x.clear();
    for (int32_t c = 0; c < d.n_features; ++c) {
      both.x.insert(both.x.end(), d.x.begin() + c * d.n_rows, d.x.begin() + (c + 1) * d.n_rows);
      both.x.insert(both.x.end(), test.x.begin() + c * test.n_rows, test.x.begin() + (c + 1) * test.n_rows);
    }
    both.y_class.insert(both.y_class.end(), test.y_class.begin(), test.y_class.end());
    std::vector<int64_t> rows;
    for (int64_t r = d.n_rows; r < both.n_rows; ++r) rows.push_back(r);
    Metrics m = Evaluate(*f, both, rows);
    EXPECT_GT(m.accuracy, 0.95) << (extra ? "extra trees" : "random forest");
    EXPECT_GT(m.roc_auc, 0.99);
    // The two informative features carry most of the importance.
    const auto& imp = f->training.feature_importances;
    EXPECT_GT(imp[0] + imp[1], 0.8);
  }
}

TEST(TrainTest, RegressionAndCrossValidation) {
  TrainingData d = Synthetic(3000, 2, 0.0, 5);
  d.kind = ModelKind::kRegressor;
  d.class_labels.clear();
  for (int64_t r = 0; r < d.n_rows; ++r) d.y_value.push_back(3.0 * d.x[r] - 2.0 * d.x[d.n_rows + r]);
  d.y_class.clear();
  TrainParams p;
  p.n_estimators = 20;
  p.threads = 2;
  auto folds = CrossValidate(d, p, 3);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  Metrics m = MeanMetrics(*folds);
  EXPECT_EQ(m.n_test, 3000);
  EXPECT_GT(m.r2, 0.97);
  EXPECT_LT(m.rmse, 0.15);
  p.criterion = Criterion::kGini;
  EXPECT_FALSE(TrainForest(d, p).ok());
}

TEST(EvaluationTest, StratifiedFoldsAndAuc) {
  TrainingData d = Synthetic(1000, 0, 0.0, 6);
  auto folds = MakeFolds(d, 4, 1);
  ASSERT_TRUE(folds.ok());
  int64_t total = 0;
  int64_t pos_all = 0;
  for (int32_t y : d.y_class) pos_all += y;
  for (const auto& f : *folds) {
    total += f.size();
    int64_t pos = 0;
    for (int64_t r : f) pos += d.y_class[r];
    EXPECT_NEAR(static_cast<double>(pos) / f.size(), static_cast<double>(pos_all) / d.n_rows, 0.01);
  }
  EXPECT_EQ(total, 1000);
  // AUC with a tie: scores 0.1 0.4 0.35 0.8 for y 0 0 1 1 -> 0.75 (sklearn).
  EXPECT_DOUBLE_EQ(RocAuc({0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8}, 2, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(RocAuc({0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 2, {0, 1, 1}), 0.5);
}

TEST(TrainTest, BalancedClassWeightShiftsProbabilities) {
  // 10% positives: balanced weights make the mean predicted P(1) about 0.5.
  TrainingData d = Synthetic(2000, 1, 0.0, 7);
  for (int64_t r = 0; r < d.n_rows; ++r) d.y_class[r] = d.x[r] > 0.9f;
  TrainParams p;
  p.n_estimators = 5;
  p.max_depth = 1;
  p.bootstrap = 0;
  p.max_features = {MaxFeatures::Kind::kAll, 0};
  p.class_weight_balanced = true;
  auto f = TrainForest(d, p);
  ASSERT_TRUE(f.ok());
  // Leaf distributions are normalised class-weighted counts.
  const Tree& t = f->trees[0];
  double s = t.values[t.nodes[0].left * 2] + t.values[t.nodes[0].left * 2 + 1];
  EXPECT_NEAR(s, 1.0, 1e-12);
  auto it = std::find(f->training.params.begin(), f->training.params.end(),
                      std::pair<std::string, std::string>{"class_weight", "balanced"});
  EXPECT_NE(it, f->training.params.end());
}

}  // namespace
}  // namespace fb::train

namespace fb::train {
namespace {

TEST(RngTest, StreamsAreUnrelated) {
  // Regression: streams of one seed must not be shifted copies of each other
  // (that made every bootstrap sample nearly the same).
  Rng a = Rng::ForStream(0, 0), b = Rng::ForStream(0, 1);
  std::vector<uint64_t> va, vb;
  for (int i = 0; i < 100; ++i) va.push_back(a.Next()), vb.push_back(b.Next());
  std::sort(va.begin(), va.end());
  for (uint64_t v : vb) EXPECT_FALSE(std::binary_search(va.begin(), va.end(), v));
}

}  // namespace
}  // namespace fb::train
