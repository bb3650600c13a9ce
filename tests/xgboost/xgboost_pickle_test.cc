// XGBoost estimators pickled through their scikit-learn wrappers
// (make_pickle_fixtures.py): real 1.7.4 pickles and joblib files, inside a
// Pipeline and GridSearchCV, and crafted 1.0-1.2, 1.3-1.5, 2.x and 3.1
// layouts. Labels must be the wrapper's predict, probabilities and values
// the wrapper's float32 results bit for bit. Hostile pickles must be refused
// as invalid data (exit 3), every truncation of a real one refused, never a
// crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fixture_util.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/xgboost_model.h"
#include "model/iterations.h"

namespace fb {
namespace {

using testing::ReadCsvMatrix;
using testing::ReadText;

std::string PickleDir() { return std::string(FB_SOURCE_DIR) + "/tests/xgboost/pickles"; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// NAME of every NAME.meta.json under dir, with dir.
std::vector<std::string> Cases(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.ends_with(".meta.json")) out.push_back(dir + "/" + f.substr(0, f.size() - 10));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The expected.csv cells as text (labels are strings).
std::vector<std::vector<std::string>> ReadCells(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(ReadText(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string c;
    while (std::getline(ls, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

uint32_t Bits(double v) {
  const float f = static_cast<float>(v);
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

void CheckCase(const std::string& base) {
  SCOPED_TRACE(base);
  const nlohmann::json meta = nlohmann::json::parse(ReadText(base + ".meta.json"));
  const std::string dir = base.substr(0, base.rfind('/'));
  auto loaded = LoadModelFile(dir + "/" + meta["file"].get<std::string>());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->float32_sums);
  auto selected = SelectIterations(std::move(loaded).value(), nullptr);
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  const Forest& f = *selected;
  const bool classifier = meta["kind"] == "classifier";
  ASSERT_EQ(f.kind == ModelKind::kClassifier, classifier) << f.info.estimator;
  if (classifier) {
    EXPECT_EQ(f.class_labels, meta["classes"].get<std::vector<std::string>>());
  }

  auto x_rows = ReadCsvMatrix(base + ".X.csv");
  std::vector<float> x;
  for (const auto& r : x_rows)
    for (double v : r) x.push_back(static_cast<float>(v));
  ASSERT_EQ(x.size(), x_rows.size() * f.n_features);
  const auto expected = ReadCells(base + ".expected.csv");
  ASSERT_EQ(expected.size(), x_rows.size());
  auto shared = std::make_shared<const Forest>(f);
  std::vector<double> raw(x_rows.size() * f.n_outputs);
  MakeBestPredictor(shared)->PredictRaw(x.data(), x_rows.size(), raw.data());
  Predictions p;
  Finalize(f, raw.data(), x_rows.size(), OutputKind::kPrediction, &p);
  for (size_t r = 0; r < x_rows.size(); ++r) {
    const auto& e = expected[r];
    size_t k0 = 0;
    if (classifier) {
      EXPECT_EQ(f.class_labels[p.label[r]], e[0]) << "row " << r << " label";
      k0 = 1;
    }
    ASSERT_EQ(e.size() - k0, static_cast<size_t>(p.n_cols)) << "row " << r;
    for (int32_t k = 0; k < p.n_cols; ++k) {
      const double want = std::stod(e[k0 + k]);
      EXPECT_EQ(Bits(p.values[r * p.n_cols + k]), Bits(want))
          << "row " << r << " column " << k << ": " << p.values[r * p.n_cols + k] << " vs " << want;
    }
  }
}

TEST(XgboostPickleTest, RealPicklesMatchTheWrapper) {
  const auto cases = Cases(PickleDir());
  EXPECT_GE(cases.size(), 11u);
  for (const std::string& c : cases) CheckCase(c);
}

// The same real estimators pickled by XGBoost 3.0.0 with numpy 2.2 and
// scikit-learn 1.4.2 (Debian 13; xgboost3/README.md): the state of a real
// 3.x wrapper and numpy 2's module names.
TEST(XgboostPickleTest, RealXgboost3PicklesMatchTheWrapper) {
  const auto cases = Cases(std::string(FB_SOURCE_DIR) + "/tests/xgboost/xgboost3/pickles");
  EXPECT_EQ(cases.size(), 11u);
  for (const std::string& c : cases) CheckCase(c);
}

TEST(XgboostPickleTest, CraftedLayoutsMatch) {
  const auto cases = Cases(PickleDir() + "/crafted");
  EXPECT_EQ(cases.size(), 4u);  // 1.0-1.2, 1.3-1.5, 2.x, 3.1
  for (const std::string& c : cases) CheckCase(c);
}

TEST(XgboostPickleTest, WrappersAndLabelsAreReported) {
  auto f = LoadModelFile(PickleDir() + "/pipeline_xgbclassifier.joblib");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->info.estimator, "XGBClassifier (XGBoost gbtree)");
  EXPECT_EQ(f->info.wrappers, "Pipeline['model']");
  auto g = LoadModelFile(PickleDir() + "/gridsearch_xgbregressor.joblib");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->info.wrappers, "GridSearchCV.best_estimator_");
  EXPECT_EQ(g->kind, ModelKind::kRegressor);
  // 1.0-1.2's label encoder keeps the original (string) labels.
  auto s = LoadModelFile(PickleDir() + "/crafted/xgb10_classifier_strings.pkl");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->class_labels, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_FALSE(s->labels_are_integers);
  // Early stopping: the wrapper predicts with rounds [0, best_iteration].
  auto e = LoadModelFile(PickleDir() + "/xgbclassifier_early_stopping.pkl");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_GE(e->best_iteration, 0);
  EXPECT_TRUE(e->predict_uses_best_iteration);
}

TEST(XgboostPickleTest, HostilePicklesAreInvalidData) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PickleDir() + "/crafted")) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("hostile_")) continue;
    SCOPED_TRACE(name);
    ++n;
    auto r = LoadModelFile(entry.path().string());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << r.status().ToString();
    // The message names the file.
    EXPECT_NE(r.status().ToString().find(name), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(n, 7);
}

// Every prefix of a real pickle and of a crafted 1.0 one (legacy binary
// inside) is refused, never loaded and never a crash.
TEST(XgboostPickleTest, EveryTruncationIsRefused) {
  for (const char* file : {"/xgbclassifier_binary.pkl", "/crafted/xgb10_classifier_strings.pkl"}) {
    const std::string bytes = Slurp(PickleDir() + file);
    ASSERT_GT(bytes.size(), 1000u);
    for (size_t n = 0; n < bytes.size(); n += (n < 64 ? 1 : 7)) {
      auto r = LoadModelBytes(std::string_view(bytes).substr(0, n), file);
      EXPECT_FALSE(r.ok()) << file << " cut at " << n;
    }
  }
}

// The booster buffers themselves, truncated and corrupted: a 1.0-1.2
// CONFIG-offset buffer around a legacy binary model made from a JSON model.
TEST(XgboostPickleTest, BoosterBufferBounds) {
  EXPECT_EQ(LoadXgboostBoosterBuffer("").status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(LoadXgboostBoosterBuffer("CONFIG-offset:").status().code(), StatusCode::kInvalidData);
  std::string huge = "CONFIG-offset:";
  const int64_t big = int64_t{1} << 62;
  huge.append(reinterpret_cast<const char*>(&big), 8);
  huge += "binf";
  EXPECT_EQ(LoadXgboostBoosterBuffer(huge).status().code(), StatusCode::kInvalidData);
  const int64_t negative = -5;
  std::memcpy(huge.data() + 14, &negative, 8);
  EXPECT_EQ(LoadXgboostBoosterBuffer(huge).status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(LoadXgboostBoosterBuffer("{\"Model\": 1}").status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(LoadXgboostBoosterBuffer("not a model").status().code(), StatusCode::kInvalidData);
}

TEST(XgboostPickleTest, LegacyBinaryModelFile) {
  const std::string path = PickleDir() + "/crafted/xgb10_classifier_strings.pkl";
  const std::string pickle = Slurp(path);
  // The legacy binary model inside the crafted 1.0-1.2 pickle.
  const size_t at = pickle.find("CONFIG-offset:");
  ASSERT_NE(at, std::string::npos);
  int64_t length;
  std::memcpy(&length, pickle.data() + at + 14, 8);
  ASSERT_GT(length, 0);
  const std::string binary = pickle.substr(at + 22, static_cast<size_t>(length));
  ASSERT_EQ(binary.substr(0, 4), "binf");
  auto f = LoadModelBytes(binary, "model.bin");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->info.source_format, "xgboost-binary");
  EXPECT_EQ(f->info.objective, "binary:logistic");
  EXPECT_EQ(f->trees.size(), 5u);
  // Every truncation and a sample of byte flips: refused or valid, never a crash.
  for (size_t n = 0; n < binary.size(); ++n) {
    auto r = LoadModelBytes(std::string_view(binary).substr(0, n), "model.bin");
    EXPECT_FALSE(r.ok()) << "cut at " << n;
  }
  for (size_t i = 0; i < binary.size(); i += 3) {
    std::string b = binary;
    b[i] = static_cast<char>(b[i] ^ 0xA5);
    (void)LoadModelBytes(b, "model.bin");
  }
}

}  // namespace
}  // namespace fb
