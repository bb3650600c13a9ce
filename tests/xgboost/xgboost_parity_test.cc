// Every fixture model (JSON and UBJSON) against python3-xgboost 1.7.4's own
// predictions: margins within 1e-5, predictions within 1e-6 relative,
// identical labels. Also: conversion to .fbm preserves the raw sums bit for
// bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fixture_util.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "infer/simd.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "model/iterations.h"

namespace fb {
namespace {

using testing::FixtureDir;
using testing::FixtureNames;
using testing::ReadCsvMatrix;
using testing::ReadText;

struct Case {
  std::string name;
  nlohmann::json meta;
  std::vector<float> x;
  size_t n_rows = 0;
  std::vector<std::vector<double>> expected;
};

Case LoadCase(const std::string& name) {
  Case c;
  c.name = name;
  c.meta = nlohmann::json::parse(ReadText(FixtureDir() + "/" + name + ".meta.json"));
  auto rows = ReadCsvMatrix(FixtureDir() + "/" + name + ".X.csv");
  c.n_rows = rows.size();
  for (auto& r : rows)
    for (double v : r) c.x.push_back(static_cast<float>(v));
  c.expected = ReadCsvMatrix(FixtureDir() + "/" + name + ".expected.csv");
  return c;
}

// What one comparison with XGBoost covered: values compared and the largest
// differences seen (probabilities relative, margins absolute).
struct Compared {
  size_t margins = 0, predictions = 0;
  double max_rel = 0, max_margin = 0;
};

Forest Select(const Case& c, Forest f) {
  IterationRange range{c.meta["iteration_begin"].get<int32_t>(), c.meta["iteration_end"].get<int32_t>()};
  auto r = c.meta["range_is_default"].get<bool>() ? SelectIterations(std::move(f), nullptr)
                                                  : SelectIterations(std::move(f), &range);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// Row counts and column counts (meta.json: margins, then predictions) are
// checked before any value.
void CheckAgainstXgboost(const Case& c, const Forest& f, Compared* stats = nullptr) {
  SCOPED_TRACE(c.name);
  const int32_t nm = c.meta["margins"], np = c.meta["predictions"];
  ASSERT_GT(c.n_rows, 0u);
  ASSERT_EQ(c.expected.size(), c.n_rows) << "expected.csv and X.csv differ in rows";
  ASSERT_EQ(nm, f.n_outputs);
  ASSERT_EQ(c.x.size(), c.n_rows * f.n_features);
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
  for (size_t r = 0; r < c.n_rows; ++r) {
    const auto& e = c.expected[r];
    for (int32_t k = 0; k < nm; ++k) {
      EXPECT_NEAR(margin.values[r * nm + k], e[k], 1e-5 * std::max(1.0, std::abs(e[k]))) << "row " << r;
      st.max_margin = std::max(st.max_margin, std::abs(margin.values[r * nm + k] - e[k]));
      ++st.margins;
    }
    if (objective == "multi:softmax") {
      EXPECT_EQ(out.label[r], static_cast<int32_t>(e[nm])) << "row " << r;
      ++st.predictions;
      continue;
    }
    // Booster.predict gives P(class 1) for binary models and every class's
    // probability for multiclass ones.
    const bool binary = f.kind == ModelKind::kClassifier && f.n_outputs == 1;
    // Tolerances: probabilities 1e-6 relative; identity-link values are
    // margins (1e-5, as above: XGBoost sums in float32, so values that
    // cancel to near zero carry its absolute rounding); exp-link values
    // inherit the margin's 1e-5 as a relative error.
    // XGBoost rounds each margin to float32 (errors ~1e-6 for |m| ~ 5),
    // which moves p by up to 2 p |dm| (sigmoid: p(1-p)|dm|; softmax: at
    // most 2 p_k max|dm|): that much is allowed on top of the 1e-6.
    double dm = 0;
    for (int32_t k = 0; k < nm; ++k) dm = std::max(dm, std::abs(margin.values[r * nm + k] - e[k]));
    for (int32_t k = 0; k < np; ++k) {
      double ours = out.values[r * out.n_cols + (binary ? 1 : k)];
      double want = e[nm + k];
      double tol = f.link == Link::kIdentity ? 1e-5 * std::max(1.0, std::abs(want))
                   : f.link == Link::kExp    ? 1e-5 * std::abs(want)
                   : f.link == Link::kStep   ? 0.0
                                             : (1e-6 + 2 * dm) * std::abs(want) + 1e-12;
      EXPECT_NEAR(ours, want, tol) << "row " << r << " output " << k;
      ++st.predictions;
      if (f.link == Link::kSigmoid || f.link == Link::kSoftmax)
        st.max_rel = std::max(st.max_rel, std::abs(ours - want) / std::abs(want));
    }
    if (f.kind == ModelKind::kClassifier) {
      int32_t label = 0;
      if (binary) {
        label = e[nm] > 0.5 ? 1 : 0;
      } else {
        for (int32_t k = 1; k < np; ++k)
          if (e[nm + k] > e[nm + label]) label = k;
      }
      EXPECT_EQ(out.label[r], label) << "row " << r;
    }
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
    Case c = LoadCase(name);
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

TEST(XgboostParityTest, JsonAndUbjsonMatchXgboost) {
  Compared all;
  size_t models = 0;
  for (const std::string& name : FixtureNames()) {
    Case c = LoadCase(name);
    for (const char* ext : {".json", ".ubj"}) {
      std::string path = FixtureDir() + "/" + name + ext;
      if (!std::filesystem::exists(path)) continue;  // crafted 2.x/3.x fixtures are JSON only
      SCOPED_TRACE(path);
      auto f = LoadModelFile(path);
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      EXPECT_EQ(f->info.source_format, std::string(ext) == ".json" ? "xgboost-json" : "xgboost-ubjson");
      Compared one;
      CheckAgainstXgboost(c, Select(c, std::move(f).value()), &one);
      // Every row's every margin and prediction was compared.
      EXPECT_EQ(one.margins, c.n_rows * c.meta["margins"].get<size_t>());
      EXPECT_EQ(one.predictions, c.n_rows * c.meta["predictions"].get<size_t>());
      all.margins += one.margins;
      all.predictions += one.predictions;
      all.max_rel = std::max(all.max_rel, one.max_rel);
      all.max_margin = std::max(all.max_margin, one.max_margin);
      ++models;
    }
  }
  EXPECT_EQ(models, 46u);  // 21 fixtures in JSON and UBJSON, 4 crafted in JSON
  std::printf(
      "%zu models: %zu margins, %zu predictions compared; largest probability difference (relative) %.3g, "
      "largest margin difference %.3g\n",
      models, all.margins, all.predictions, all.max_rel, all.max_margin);
}

// The engines `predict` may use (compiled layouts on every SIMD target this
// CPU runs) must give exactly the reference sums on every fixture: categorical nodes,
// multiclass groups with leaf width 1, random-forest rounds, NaN.
TEST(XgboostParityTest, BestPredictorMatchesReferenceExactly) {
  for (const std::string& name : FixtureNames()) {
    SCOPED_TRACE(name);
    Case c = LoadCase(name);
    auto f = LoadModelFile(FixtureDir() + "/" + name + ".json");
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

TEST(XgboostParityTest, UbjsonAndJsonGiveTheSameForest) {
  for (const std::string& name : FixtureNames()) {
    std::string ubj = FixtureDir() + "/" + name + ".ubj";
    if (!std::filesystem::exists(ubj)) continue;
    auto a = LoadModelFile(FixtureDir() + "/" + name + ".json");
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
TEST(XgboostParityTest, NativeConversionIsBitExact) {
  for (const std::string& name : FixtureNames()) {
    SCOPED_TRACE(name);
    Case c = LoadCase(name);
    auto f = LoadModelFile(FixtureDir() + "/" + name + ".json");
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
    CheckAgainstXgboost(c, Select(c, std::move(g).value()));
  }
}

}  // namespace
}  // namespace fb
