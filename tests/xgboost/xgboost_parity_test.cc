// Every fixture model (JSON and UBJSON) against its XGBoost's own float32
// results (python3-xgboost 1.7.4 for fixtures/, 3.0.0 for xgboost3/), bit for bit: margins, predictions, the
// scikit-learn wrapper's predict_proba and labels (docs/xgboost.md says why they can be exact). Also:
// conversion to .fbm preserves the raw sums bit for bit, and every compiled engine gives the reference sums.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/simd.h"
#include "fixture_util.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "model/iterations.h"

namespace fb {
namespace {

using testing::FixtureDir;
using testing::FixtureNames;
using testing::ReadCsvMatrix;
using testing::ReadText;
using testing::Xgboost3FixtureDir;

struct Case {
  std::string dir, name;
  nlohmann::json meta;
  std::vector<float> x;
  size_t n_rows = 0;
  std::vector<std::vector<double>> expected;
  // Classifiers: the scikit-learn wrapper's predict_proba columns, then its
  // predict as a class index (NAME.proba.csv); empty when not written.
  std::vector<std::vector<double>> proba;
};

// One XGBoost version's fixtures.
struct FixtureSet {
  std::string xgboost;  // the version that made them
  std::string dir;
  size_t models;  // model files (JSON, UBJSON) the set must hold
  // Fixtures whose NAME.proba.csv (the scikit-learn wrapper's predict_proba)
  // may differ from Booster.predict by a few float32 ulps: XGBoost 3.0's
  // wrapper predicts through inplace_predict, whose DART margins differ from
  // DMatrix prediction's by 1 ulp on 22 of dart_binary's 120 rows (the tree
  // weights are applied in another order). forestbatch equals Booster.predict
  // bit for bit there (expected.csv, checked exactly), and the wrapper within
  // kWrapperUlps.
  std::vector<std::string> wrapper_differs;
};
constexpr uint32_t kWrapperUlps = 4;

std::string PrintSet(const ::testing::TestParamInfo<FixtureSet>& info) {
  std::string n = "xgboost_" + info.param.xgboost;
  for (char& ch : n)
    if (ch == '.') ch = '_';
  return n;
}

Case LoadCase(const std::string& dir, const std::string& name) {
  Case c;
  c.dir = dir;
  c.name = name;
  c.meta = nlohmann::json::parse(ReadText(dir + "/" + name + ".meta.json"));
  auto rows = ReadCsvMatrix(dir + "/" + name + ".X.csv");
  c.n_rows = rows.size();
  for (auto& r : rows)
    for (double v : r) c.x.push_back(static_cast<float>(v));
  c.expected = ReadCsvMatrix(dir + "/" + name + ".expected.csv");
  const std::string proba = dir + "/" + name + ".proba.csv";
  if (std::filesystem::exists(proba)) c.proba = ReadCsvMatrix(proba);
  return c;
}

// What one comparison with XGBoost covered: values compared bit for bit.
struct Compared {
  size_t margins = 0, predictions = 0, probas = 0;
};

Forest Select(const Case& c, Forest f) {
  IterationRange range{c.meta["iteration_begin"].get<int32_t>(), c.meta["iteration_end"].get<int32_t>()};
  auto r = c.meta["range_is_default"].get<bool>() ? SelectIterations(std::move(f), nullptr)
                                                  : SelectIterations(std::move(f), &range);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// A float32 value as C's %a prints it, with its bits: what the exact
// comparisons report.
std::string Hex(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a (0x%08x)", static_cast<double>(v), bits);
  return buf;
}

// Ours must be a float32 value (the model sums in float32) and that value
// must be XGBoost's: the same bits. The fixtures print XGBoost's float32
// results with 9 significant digits, which parse back to the same float32.
void ExpectSameFloat32(double ours, double xgboost, const std::string& what, uint32_t ulps = 0) {
  const float o = static_cast<float>(ours), x = static_cast<float>(xgboost);
  EXPECT_EQ(static_cast<double>(o), ours) << what << ": " << ours << " is not a float32 value";
  uint32_t ob, xb;
  std::memcpy(&ob, &o, 4);
  std::memcpy(&xb, &x, 4);
  if (ulps == 0) {
    EXPECT_EQ(ob, xb) << what << ": ours " << Hex(o) << ", xgboost " << Hex(x);
  } else {  // same sign, finite: the bit patterns' distance is the ulp count
    EXPECT_LE(ob > xb ? ob - xb : xb - ob, ulps) << what << ": ours " << Hex(o) << ", xgboost " << Hex(x);
  }
}

// Row counts and column counts (meta.json: margins, then predictions) are
// checked before any value. Every margin (Booster.predict(output_margin=True)),
// prediction (Booster.predict) and, for classifiers with a NAME.proba.csv,
// every probability and label of the scikit-learn wrapper (predict_proba,
// predict) must be XGBoost's float32 result bit for bit.
void CheckAgainstXgboost(const Case& c, const Forest& f, Compared* stats = nullptr,
                         uint32_t wrapper_ulps = 0) {
  SCOPED_TRACE(c.name);
  const int32_t nm = c.meta["margins"], np = c.meta["predictions"];
  ASSERT_GT(c.n_rows, 0u);
  ASSERT_EQ(c.expected.size(), c.n_rows) << "expected.csv and X.csv differ in rows";
  ASSERT_EQ(nm, f.n_outputs);
  ASSERT_EQ(c.x.size(), c.n_rows * f.n_features);
  ASSERT_TRUE(f.float32_sums) << "XGBoost models sum in float32";
  for (const auto& e : c.expected) ASSERT_EQ(e.size(), static_cast<size_t>(nm + np));
  auto shared = std::make_shared<const Forest>(f);
  auto pred = MakeReferencePredictor(shared);
  std::vector<double> raw(c.n_rows * f.n_outputs);
  pred->PredictRaw(c.x.data(), c.n_rows, raw.data());
  Predictions margin, out;
  Finalize(f, raw.data(), c.n_rows, OutputKind::kMargin, &margin);
  Finalize(f, raw.data(), c.n_rows, OutputKind::kPrediction, &out);
  const std::string objective = f.info.objective;
  ASSERT_EQ(margin.values.size(), c.n_rows * static_cast<size_t>(nm));
  Compared local;
  Compared& st = stats ? *stats : local;
  const bool binary = f.kind == ModelKind::kClassifier && f.n_outputs == 1;
  for (size_t r = 0; r < c.n_rows; ++r) {
    const auto& e = c.expected[r];
    const std::string row = "row " + std::to_string(r);
    for (int32_t k = 0; k < nm; ++k) {
      ExpectSameFloat32(margin.values[r * nm + k], e[k], row + " margin " + std::to_string(k));
      ++st.margins;
    }
    if (objective == "multi:softmax") {
      EXPECT_EQ(out.label[r], static_cast<int32_t>(e[nm])) << row;
      ++st.predictions;
      continue;
    }
    // Booster.predict gives P(class 1) for binary models and every class's
    // probability for multiclass ones.
    for (int32_t k = 0; k < np; ++k) {
      ExpectSameFloat32(out.values[r * out.n_cols + (binary ? 1 : k)], e[nm + k],
                        row + " prediction " + std::to_string(k));
      ++st.predictions;
    }
    if (f.kind == ModelKind::kClassifier) {
      int32_t label = 0;
      if (binary) {
        label = e[nm] > 0.5 ? 1 : 0;
      } else {
        for (int32_t k = 1; k < np; ++k)
          if (e[nm + k] > e[nm + label]) label = k;
      }
      EXPECT_EQ(out.label[r], label) << row;
    }
  }
  // The scikit-learn wrapper's predict_proba and predict.
  if (c.proba.empty()) return;
  ASSERT_EQ(f.kind, ModelKind::kClassifier);
  ASSERT_EQ(c.proba.size(), c.n_rows);
  for (size_t r = 0; r < c.n_rows; ++r) {
    const auto& e = c.proba[r];
    ASSERT_EQ(e.size(), static_cast<size_t>(out.n_cols) + 1);
    const std::string row = "row " + std::to_string(r);
    for (int32_t k = 0; k < out.n_cols; ++k) {
      ExpectSameFloat32(out.values[r * out.n_cols + k], e[k], row + " predict_proba " + std::to_string(k),
                        wrapper_ulps);
      ++st.probas;
    }
    EXPECT_EQ(out.label[r], static_cast<int32_t>(e[out.n_cols])) << row << " predict";
  }
}

// Exactly the fixtures make_fixtures.py writes, each complete and
// consistent: the model's feature count is X.csv's width, expected.csv has
// X.csv's rows and meta.json's margin + prediction columns, and the
// 1.7-saved ones (not the crafted v2_/v3_ ones) come in UBJSON too.
TEST(XgboostParityTest, FixturesExist) {
  const std::vector<std::string> want = {"binary_hinge",
                                         "binary_logistic",
                                         "binary_logitraw",
                                         "categorical_multi",
                                         "categorical_reg",
                                         "count_poisson",
                                         "dart_binary",
                                         "iteration_range_1_3",
                                         "multi_softmax",
                                         "multi_softprob",
                                         "rank_pairwise",
                                         "reg_absoluteerror",
                                         "reg_gamma",
                                         "reg_logistic",
                                         "reg_pseudohubererror",
                                         "reg_squarederror",
                                         "reg_squaredlogerror",
                                         "reg_tweedie",
                                         "rf_binary",
                                         "rf_multi",
                                         "sklearn_early_stopping",
                                         "v2_rf_binary",
                                         "v3_binary_logistic",
                                         "v3_count_poisson",
                                         "v3_multi_softprob"};
  ASSERT_EQ(FixtureNames(), want);
  for (const std::string& name : want) {
    SCOPED_TRACE(name);
    const bool crafted = name.starts_with("v2_") || name.starts_with("v3_");
    EXPECT_EQ(std::filesystem::exists(FixtureDir() + "/" + name + ".ubj"), !crafted);
    Case c = LoadCase(FixtureDir(), name);
    auto f = LoadModelFile(FixtureDir() + "/" + name + ".json");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_GE(c.n_rows, 100u);
    EXPECT_EQ(c.x.size(), c.n_rows * f->n_features);
    ASSERT_EQ(c.expected.size(), c.n_rows);
    const size_t cols = c.meta["margins"].get<size_t>() + c.meta["predictions"].get<size_t>();
    for (const auto& e : c.expected) ASSERT_EQ(e.size(), cols);
    EXPECT_EQ(c.meta["margins"].get<int32_t>(), f->n_outputs);
    EXPECT_FALSE(c.meta["note"].get<std::string>().empty());
  }
}

// XGBoost 3.0.0 ran the same generator: every fixture but the crafted
// 2.x/3.1 layouts, each in JSON and UBJSON as 3.0 saved it.
TEST(XgboostParityTest, Xgboost3FixturesExist) {
  std::vector<std::string> want = FixtureNames();
  std::erase_if(want, [](const std::string& n) { return n.starts_with("v2_") || n.starts_with("v3_"); });
  ASSERT_EQ(FixtureNames(Xgboost3FixtureDir()), want);
  for (const std::string& name : want) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(std::filesystem::exists(Xgboost3FixtureDir() + "/" + name + ".ubj"));
    const std::string text = ReadText(Xgboost3FixtureDir() + "/" + name + ".json");
    EXPECT_NE(text.find("\"version\":[3,0,0]"), std::string::npos) << "not saved by XGBoost 3.0.0";
  }
}

class XgboostFixtureSet : public ::testing::TestWithParam<FixtureSet> {};

INSTANTIATE_TEST_SUITE_P(Versions, XgboostFixtureSet,
                         ::testing::Values(FixtureSet{"1.7.4", FixtureDir(), 46, {}},
                                           FixtureSet{"3.0.0", Xgboost3FixtureDir(), 42, {"dart_binary"}}),
                         PrintSet);

uint32_t WrapperUlps(const FixtureSet& set, const std::string& name) {
  return std::find(set.wrapper_differs.begin(), set.wrapper_differs.end(), name) != set.wrapper_differs.end()
             ? kWrapperUlps
             : 0;
}

TEST_P(XgboostFixtureSet, JsonAndUbjsonMatchXgboost) {
  const FixtureSet& set = GetParam();
  Compared all;
  size_t models = 0;
  for (const std::string& name : FixtureNames(set.dir)) {
    Case c = LoadCase(set.dir, name);
    for (const char* ext : {".json", ".ubj"}) {
      std::string path = set.dir + "/" + name + ext;
      if (!std::filesystem::exists(path)) continue;  // crafted 2.x/3.x fixtures are JSON only
      SCOPED_TRACE(path);
      auto f = LoadModelFile(path);
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      EXPECT_EQ(f->info.source_format, std::string(ext) == ".json" ? "xgboost-json" : "xgboost-ubjson");
      Compared one;
      CheckAgainstXgboost(c, Select(c, std::move(f).value()), &one, WrapperUlps(set, name));
      // Every row's every margin and prediction was compared.
      EXPECT_EQ(one.margins, c.n_rows * c.meta["margins"].get<size_t>());
      EXPECT_EQ(one.predictions, c.n_rows * c.meta["predictions"].get<size_t>());
      all.margins += one.margins;
      all.predictions += one.predictions;
      all.probas += one.probas;
      ++models;
    }
  }
  // 1.7.4: 21 fixtures in JSON and UBJSON, 4 crafted in JSON; 3.0.0: 21 in both.
  EXPECT_EQ(models, set.models);
  EXPECT_GT(all.probas, 0u);
  std::printf(
      "XGBoost %s, %zu models: %zu margins, %zu predictions, %zu predict_proba values equal XGBoost's "
      "(bit for bit, but for the set's wrapper_differs)\n",
      set.xgboost.c_str(), models, all.margins, all.predictions, all.probas);
}

// The engines `predict` may use (compiled layouts on every SIMD target this
// CPU runs) must give exactly the reference sums on every fixture: categorical nodes,
// multiclass groups with leaf width 1, random-forest rounds, NaN.
TEST_P(XgboostFixtureSet, BestPredictorMatchesReferenceExactly) {
  const std::string& dir = GetParam().dir;
  for (const std::string& name : FixtureNames(dir)) {
    SCOPED_TRACE(name);
    Case c = LoadCase(dir, name);
    auto f = LoadModelFile(dir + "/" + name + ".json");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    auto shared = std::make_shared<const Forest>(std::move(f).value());
    std::vector<double> a(c.n_rows * shared->n_outputs);
    MakeReferencePredictor(shared)->PredictRaw(c.x.data(), c.n_rows, a.data());
    for (SimdTarget target : SupportedSimdTargets()) {
      auto p = MakeCompiledPredictor(shared, target);
      std::vector<double> b(a.size());
      p->PredictRaw(c.x.data(), c.n_rows, b.data());
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0) << p->name();
    }
  }
}

TEST_P(XgboostFixtureSet, UbjsonAndJsonGiveTheSameForest) {
  const std::string& dir = GetParam().dir;
  for (const std::string& name : FixtureNames(dir)) {
    std::string ubj = dir + "/" + name + ".ubj";
    if (!std::filesystem::exists(ubj)) continue;
    auto a = LoadModelFile(dir + "/" + name + ".json");
    auto b = LoadModelFile(ubj);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    ASSERT_EQ(a->trees.size(), b->trees.size());
    for (size_t t = 0; t < a->trees.size(); ++t) {
      EXPECT_EQ(a->trees[t].values, b->trees[t].values) << name << " tree " << t;
      ASSERT_EQ(a->trees[t].nodes.size(), b->trees[t].nodes.size());
      for (size_t i = 0; i < a->trees[t].nodes.size(); ++i)
        EXPECT_EQ(a->trees[t].nodes[i].threshold, b->trees[t].nodes[i].threshold) << name;
    }
    EXPECT_EQ(a->categories, b->categories);
    EXPECT_EQ(a->base_margin, b->base_margin);
  }
}

// model convert: the .fbm gives bit-identical raw sums on the same rows.
TEST_P(XgboostFixtureSet, NativeConversionIsBitExact) {
  const FixtureSet& set = GetParam();
  for (const std::string& name : FixtureNames(set.dir)) {
    SCOPED_TRACE(name);
    Case c = LoadCase(set.dir, name);
    auto f = LoadModelFile(set.dir + "/" + name + ".json");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    auto bytes = SerializeNativeModel(*f);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto g = LoadModelBytes(*bytes, name + ".fbm");
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_EQ(g->info.source_format, "native (from xgboost-json)");
    EXPECT_EQ(g->info.objective, f->info.objective);
    EXPECT_EQ(g->best_iteration, f->best_iteration);
    EXPECT_EQ(g->predict_uses_best_iteration, f->predict_uses_best_iteration);
    std::vector<double> a(c.n_rows * f->n_outputs), b(a.size());
    MakeReferencePredictor(std::make_shared<const Forest>(*f))->PredictRaw(c.x.data(), c.n_rows, a.data());
    MakeReferencePredictor(std::make_shared<const Forest>(*g))->PredictRaw(c.x.data(), c.n_rows, b.data());
    ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0);
    // And through the default iteration selection, as predict would.
    CheckAgainstXgboost(c, Select(c, std::move(g).value()), nullptr, WrapperUlps(set, name));
  }
}

}  // namespace
}  // namespace fb
