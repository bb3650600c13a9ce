// LightGBM text models written here by the documented layout (what
// GBDT::SaveModelToString and Tree::ToString write), checked against an
// independent transcription of LightGBM's prediction rules (tree.h
// NumericalDecision / CategoricalDecision, the parser's zeroing of |v| <=
// kZeroThreshold, gbdt_prediction.cpp, the objectives' ConvertOutput) on
// rows made to hit every edge: NaN, +-0, the zero band, each threshold and
// its float32 neighbours, negative and fractional categories. The models
// LightGBM itself made are in tests/lightgbm/.
#include "model/import/lightgbm_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/simd.h"
#include "infer/compiled_forest.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "model/iterations.h"

namespace fb {
namespace {

constexpr double kZeroThreshold = 1e-35f;  // LightGBM's meta.h: a float literal

struct LgbTree {
  std::vector<int> split_feature, left, right, decision_type;
  std::vector<double> threshold, leaf_value;
  std::vector<int> cat_boundaries;
  std::vector<uint32_t> cat_threshold;
  int num_leaves() const { return static_cast<int>(leaf_value.size()); }
  int num_cat() const { return cat_boundaries.empty() ? 0 : static_cast<int>(cat_boundaries.size()) - 1; }
};

// LightGBM's Tree::GetLeaf on a dense row of doubles.
int OracleLeaf(const LgbTree& t, const double* x) {
  if (t.num_leaves() == 1) return 0;
  int node = 0;
  while (node >= 0) {
    const int dt = t.decision_type[node];
    double fval = x[t.split_feature[node]];
    if (t.num_cat() > 0 && (dt & 1)) {
      int next;
      if (std::isnan(fval)) {
        next = t.right[node];
      } else {
        // static_cast<int>: values past INT_MAX give INT_MIN on x86 (UB in C++).
        const int iv = (fval >= 2147483648.0 || fval <= -2147483649.0) ? std::numeric_limits<int>::min()
                                                                       : static_cast<int>(fval);
        if (iv < 0) {
          next = t.right[node];
        } else {
          const int c = static_cast<int>(t.threshold[node]);
          const int n = t.cat_boundaries[c + 1] - t.cat_boundaries[c];
          const int i1 = iv / 32;
          const bool in = i1 < n && ((t.cat_threshold[t.cat_boundaries[c] + i1] >> (iv % 32)) & 1);
          next = in ? t.left[node] : t.right[node];
        }
      }
      node = next;
      continue;
    }
    const int missing = (dt >> 2) & 3;
    if (std::isnan(fval) && missing != 2) fval = 0.0;
    const bool is_zero = fval >= -kZeroThreshold && fval <= kZeroThreshold;
    if ((missing == 1 && is_zero) || (missing == 2 && std::isnan(fval))) {
      node = (dt & 2) ? t.left[node] : t.right[node];
    } else {
      node = fval <= t.threshold[node] ? t.left[node] : t.right[node];
    }
  }
  return ~node;
}

// GBDT::PredictRaw (+ the parser's zeroing) for rows of doubles.
std::vector<double> OracleRaw(const std::vector<LgbTree>& trees, int per_iteration, const double* row,
                              int nf) {
  std::vector<double> x(nf);
  for (int i = 0; i < nf; ++i) {
    double v = row[i];
    x[i] = (std::fabs(v) > kZeroThreshold || std::isnan(v)) ? v : 0.0;  // parser.hpp: CSVParser
  }
  std::vector<double> out(per_iteration, 0.0);
  for (size_t i = 0; i < trees.size(); ++i)
    out[i % per_iteration] += trees[i].leaf_value[OracleLeaf(trees[i], x.data())];
  return out;
}

template <typename T>
std::string Join(const std::vector<T>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ' ';
    if constexpr (std::is_floating_point_v<T>) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v[i]);
      s += buf;
    } else {
      s += std::to_string(v[i]);
    }
  }
  return s;
}

// Tree::ToString's layout, "Tree=i\n" before and '\n' after (tree_sizes counts it all).
std::string TreeText(const LgbTree& t, size_t i, const std::string& extra = "") {
  const int L = t.num_leaves();
  std::string s = "Tree=" + std::to_string(i) + "\n";
  s += "num_leaves=" + std::to_string(L) + "\n";
  s += "num_cat=" + std::to_string(t.num_cat()) + "\n";
  if (L > 1) {
    s += "split_feature=" + Join(t.split_feature) + "\n";
    s += "split_gain=" + Join(std::vector<int>(L - 1, 1)) + "\n";
    s += "threshold=" + Join(t.threshold) + "\n";
    s += "decision_type=" + Join(t.decision_type) + "\n";
    s += "left_child=" + Join(t.left) + "\n";
    s += "right_child=" + Join(t.right) + "\n";
  }
  s += "leaf_value=" + Join(t.leaf_value) + "\n";
  s += "leaf_weight=" + Join(std::vector<int>(L, 1)) + "\n";
  s += "leaf_count=" + Join(std::vector<int>(L, 1)) + "\n";
  if (L > 1) {
    s += "internal_value=" + Join(std::vector<int>(L - 1, 0)) + "\n";
    s += "internal_weight=" + Join(std::vector<int>(L - 1, 0)) + "\n";
    s += "internal_count=" + Join(std::vector<int>(L - 1, 2)) + "\n";
  }
  if (t.num_cat() > 0) {
    s += "cat_boundaries=" + Join(t.cat_boundaries) + "\n";
    s += "cat_threshold=" + Join(t.cat_threshold) + "\n";
  }
  s += extra;
  s += "is_linear=0\nshrinkage=0.1\n\n\n";
  return s;
}

struct ModelSpec {
  int num_class = 1;
  int per_iteration = 1;
  int n_features = 3;
  std::string objective = "regression";
  bool average_output = false;
  std::vector<LgbTree> trees;
};

std::string ModelText(const ModelSpec& m) {
  std::string s = "tree\nversion=v4\nnum_class=" + std::to_string(m.num_class) +
                  "\nnum_tree_per_iteration=" + std::to_string(m.per_iteration) +
                  "\nlabel_index=0\nmax_feature_idx=" + std::to_string(m.n_features - 1) + "\n";
  if (!m.objective.empty()) s += "objective=" + m.objective + "\n";
  if (m.average_output) s += "average_output\n";
  std::vector<std::string> names, infos;
  for (int i = 0; i < m.n_features; ++i) names.push_back("f" + std::to_string(i)), infos.push_back("[-1:1]");
  s += "feature_names=";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
  s += "\nfeature_infos=";
  for (size_t i = 0; i < infos.size(); ++i) s += (i ? " " : "") + infos[i];
  std::vector<std::string> blocks;
  std::vector<size_t> sizes;
  for (size_t i = 0; i < m.trees.size(); ++i)
    blocks.push_back(TreeText(m.trees[i], i)), sizes.push_back(blocks.back().size());
  s += "\ntree_sizes=" + Join(sizes) + "\n\n";
  for (const std::string& b : blocks) s += b;
  s += "end of trees\n\nfeature_importances:\nf0=1\n\nparameters:\n[boosting: gbdt]\nend of parameters\n\n"
       "pandas_categorical:null\n";
  return s;
}

// A 3-leaf numeric tree: root on f0 (threshold t0, decision dt0), its right
// child on f1 (t1, dt1).
LgbTree Numeric(double t0, int dt0, double t1, int dt1, std::vector<double> leaves = {-1.0, 0.25, 2.0}) {
  LgbTree t;
  t.split_feature = {0, 1};
  t.threshold = {t0, t1};
  t.decision_type = {dt0, dt1};
  t.left = {~0, ~1};
  t.right = {1, ~2};
  t.leaf_value = std::move(leaves);
  return t;
}

// Doubles at the edges of a double threshold t: t itself, one double ulp
// either side, the float32 values around it (as doubles) and doubles
// strictly between t and them (within one float32 rounding of t, so that
// float(v) == float(t) while v != t).
void AddEdges(double t, std::vector<double>* pool) {
  pool->push_back(t);
  pool->push_back(std::nextafter(t, INFINITY));
  pool->push_back(std::nextafter(t, -INFINITY));
  const float f = static_cast<float>(t);
  for (float g : {f, std::nextafter(f, INFINITY), std::nextafter(f, -INFINITY)}) {
    pool->push_back(g);
    pool->push_back((static_cast<double>(g) + t) / 2);
  }
  if (std::isfinite(t) && t != 0) {
    const double ulp32 = std::abs(std::nextafter(f, INFINITY) - f);
    pool->push_back(t + ulp32 / 4);
    pool->push_back(t - ulp32 / 4);
  }
}

// Rows (doubles) that hit every edge of the forest's thresholds and
// categories.
std::vector<double> EdgeRows(const std::vector<LgbTree>& trees, int nf, size_t rows, uint32_t seed) {
  std::vector<double> pool = {
      0.0, -0.0, 1e-36, -1e-36, std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
      // Categories: LightGBM's static_cast<int>(v).
      -0.5, -1.0, -0.99, std::nextafter(-1.0, 0.0), std::nextafter(1.0, 0.0), 0.5, 1.5,
      std::nextafter(3.0, 0.0), std::nextafter(3.0, INFINITY), 31.0, 32.0, 33.7, 64.0, 1e9, 3e9, -3e9,
      2147483647.5, 2147483648.0, -2147483648.5, 16777215.0, 16777216.0, 16777216.5, 1e300, -1e300};
  AddEdges(kZeroThreshold, &pool);  // the zero band's edges
  AddEdges(-kZeroThreshold, &pool);
  for (const LgbTree& t : trees)
    for (double thr : t.threshold) AddEdges(thr, &pool);
  std::mt19937 rng(seed);
  std::vector<double> x(rows * nf);
  for (double& v : x)
    v = (rng() % 4 == 0) ? std::uniform_real_distribution<double>(-3, 3)(rng) : pool[rng() % pool.size()];
  return x;
}

Forest Load(const std::string& text) {
  auto r = LoadLightgbmText(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Forest{};
}

// Rows of doubles as the table readers hand them to the trees: through the
// model's float64 input map.
std::vector<float> Mapped(const Forest& f, const std::vector<double>& x) {
  EXPECT_EQ(f.float64_features.size(), static_cast<size_t>(f.n_features));
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t j = i % static_cast<size_t>(f.n_features);
    out[i] = j < f.float64_features.size() ? Float64FeatureValue(f.float64_features[j], x[i])
                                           : static_cast<float>(x[i]);
  }
  return out;
}

std::vector<double> Raw(const Forest& f, const std::vector<double>& rows, bool compiled = false) {
  auto shared = std::make_shared<const Forest>(f);
  const std::vector<float> x = Mapped(f, rows);
  size_t n = x.size() / f.n_features;
  std::vector<double> out(n * f.n_outputs);
  (compiled ? MakeBestPredictor(shared) : MakeReferencePredictor(shared))
      ->PredictRaw(x.data(), n, out.data());
  return out;
}

// Raw sums of the reference predictor, every compiled engine and the
// native round trip equal the oracle's exactly.
void ExpectMatchesOracle(const ModelSpec& m, uint32_t seed = 1) {
  Forest f = Load(ModelText(m));
  ASSERT_EQ(f.n_features, m.n_features);
  const size_t rows = 300;
  std::vector<double> xd = EdgeRows(m.trees, m.n_features, rows, seed);
  std::vector<double> ref = Raw(f, xd);
  const std::vector<float> x = Mapped(f, xd);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<double> want =
        OracleRaw(m.trees, m.per_iteration, xd.data() + r * m.n_features, m.n_features);
    for (int k = 0; k < m.per_iteration; ++k)
      ASSERT_EQ(ref[r * m.per_iteration + k], want[k])
          << "row " << r << " output " << k << " x0=" << xd[r * m.n_features]
          << " x1=" << xd[r * m.n_features + 1];
  }
  auto shared = std::make_shared<const Forest>(f);
  for (SimdTarget target : SupportedSimdTargets()) {
    std::vector<double> got(ref.size());
    MakeCompiledPredictor(shared, target)->PredictRaw(x.data(), rows, got.data());
    ASSERT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(double)), 0) << SimdTargetName(target);
  }
  auto bytes = SerializeNativeModel(f);
  ASSERT_TRUE(bytes.ok());
  auto back = LoadNativeModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Raw(*back, xd), ref);
}

TEST(LightgbmImportTest, DetectsTheFormat) {
  ModelSpec m;
  m.trees = {Numeric(0.5, 2, 1.5, 2)};
  const std::string text = ModelText(m);
  EXPECT_EQ(DetectModelFormat(text.substr(0, 256)), ModelFormat::kLightgbmText);
  EXPECT_EQ(DetectModelFormat("tree\r\nversion=v3\r\n"), ModelFormat::kLightgbmText);
  EXPECT_EQ(DetectModelFormat("tree\nhello\n"), ModelFormat::kUnknown);
  auto r = LoadModelBytes(text, "model.txt");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->info.source_format, "lightgbm-text v4");
  EXPECT_EQ(r->feature_names, (std::vector<std::string>{"f0", "f1", "f2"}));
}

TEST(LightgbmImportTest, NumericMissingTypesMatchLightgbm) {
  // decision_type: 2 default left, 4 missing Zero, 8 missing NaN.
  for (int dt0 : {0, 2, 4, 6, 8, 10})
    for (int dt1 : {0, 6, 10}) {
      for (double t0 : {0.5, -0.25, 0.0, 1.0000000180025095e-35, -1e-36, 5e-36, -1e-35, 1e-300, -1e300}) {
        SCOPED_TRACE(testing::Message() << "dt0 " << dt0 << " dt1 " << dt1 << " t0 " << t0);
        ModelSpec m;
        m.trees = {Numeric(t0, dt0, 0.30000000000000004, dt1), Numeric(-0.1, dt1, t0, dt0, {3, -2, 0.5})};
        ExpectMatchesOracle(m, static_cast<uint32_t>(dt0 * 100 + dt1));
      }
    }
}

TEST(LightgbmImportTest, ZeroAsMissingStaysOnTheFastEngines) {
  // Missing type Zero, default right, threshold 0.5: 0 would go left, so
  // 0 must go where NaN goes. No node on f0 sends 0 and NaN apart, so the
  // map reads f0's zero band as NaN and no node needs the zero_missing test
  // (the compiled kernels compare one threshold only).
  ModelSpec m;
  m.trees = {Numeric(0.5, 4, 1.5, 6)};
  Forest f = Load(ModelText(m));
  EXPECT_TRUE(f.float64_features[0].zero_is_missing);
  EXPECT_FALSE(f.trees[0].nodes[0].zero_missing);
  EXPECT_FALSE(f.trees[0].nodes[0].default_left);
  EXPECT_FALSE(f.float64_features[1].zero_is_missing);  // 0 <= 1.5 and default left: nothing to do
  EXPECT_FALSE(f.trees[0].nodes[1].zero_missing);
  EXPECT_TRUE(std::isnan(Float64FeatureValue(f.float64_features[0], 1e-36)));
  auto shared = std::make_shared<const Forest>(f);
  const CompiledForest cf = CompileForest(shared);
  EXPECT_TRUE(cf.generic_trees.empty());
  ExpectMatchesOracle(m);
  // A missing-type-NaN node on f0 whose default is not 0's side: 0 and NaN
  // part there, so the zero band stays 0 and the Zero node keeps its test.
  m.trees.push_back(Numeric(-0.25, 10, 1.5, 6));  // NaN left, 0 > -0.25 right
  f = Load(ModelText(m));
  EXPECT_FALSE(f.float64_features[0].zero_is_missing);
  EXPECT_TRUE(f.trees[0].nodes[0].zero_missing);
  ExpectMatchesOracle(m, 3);
}

TEST(LightgbmImportTest, CategoricalSplitsMatchLightgbm) {
  LgbTree t;
  t.split_feature = {0, 1, 2};
  t.threshold = {0, 1, 0.5};
  t.decision_type = {1, 1 | 2 | 8, 8};
  t.left = {1, ~1, ~2};
  t.right = {2, ~0, ~3};
  t.leaf_value = {1.0, 2.0, 3.0, 4.0};
  // Set 0: categories 0, 1, 31, 32, 33 (two words); set 1: category 3.
  t.cat_boundaries = {0, 2, 3};
  t.cat_threshold = {(1u << 0) | (1u << 1) | (1u << 31), (1u << 0) | (1u << 1), 1u << 3};
  ModelSpec m;
  m.trees = {t};
  ExpectMatchesOracle(m, 7);
  Forest f = Load(ModelText(m));
  EXPECT_EQ(f.categories, (std::vector<int32_t>{0, 1, 31, 32, 33, 3}));
  // -0.5 is category 0 for LightGBM (static_cast<int>), so it is in set 0.
  std::vector<double> row = {-0.5, 3.0, 0.0};
  EXPECT_EQ(Raw(f, row)[0], 2.0);  // in set 0 -> LightGBM left -> node 1; 3 in set 1 -> left -> leaf 1
  row = {-1.0, 3.0, 0.0};          // -1: negative -> LightGBM right -> node 2 -> 0 <= 0.5 -> leaf 2
  EXPECT_EQ(Raw(f, row)[0], 3.0);
  row = {std::nan(""), 3.0, 0.7};
  EXPECT_EQ(Raw(f, row)[0], 4.0);
}

TEST(LightgbmImportTest, BinaryObjectiveWithSigmoidAndLabels) {
  for (double sigmoid : {1.0, 0.5}) {
    ModelSpec m;
    m.objective = "binary sigmoid:" + std::string(sigmoid == 1.0 ? "1" : "0.5");
    m.trees = {Numeric(0.5, 10, 1.5, 10, {-1.25, 0.5, 3.0}), Numeric(-0.1, 8, 2.5, 8, {0.125, -0.5, 1.0})};
    Forest f = Load(ModelText(m));
    EXPECT_EQ(f.kind, ModelKind::kClassifier);
    EXPECT_EQ(f.class_labels, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(f.link, sigmoid == 1.0 ? Link::kSigmoid : Link::kScaledSigmoid);
    std::vector<double> x = {-1.0, 0.0, 0.0, 1.0, 0.0, 0.0};  // margins -1.25+0.125, 0.5-0.5
    std::vector<double> raw = Raw(f, x);
    Predictions p, mg;
    Finalize(f, raw.data(), 2, OutputKind::kPrediction, &p);
    Finalize(f, raw.data(), 2, OutputKind::kMargin, &mg);
    EXPECT_EQ(mg.values[0], -1.125);
    EXPECT_EQ(mg.values[1], 0.0);
    const double p0 = 1.0f / (1.0f + std::exp(-sigmoid * -1.125));  // binary_objective.hpp, verbatim
    EXPECT_EQ(p.values[1], p0);
    EXPECT_EQ(p.values[0], 1.0 - p0);
    EXPECT_EQ(p.label[0], 0);
    EXPECT_EQ(p.label[1], 0);  // p = 0.5: LGBMClassifier's argmax of [1-p, p] picks class 0
  }
}

TEST(LightgbmImportTest, MulticlassSoftmaxAndOva) {
  for (const char* objective : {"multiclass num_class:3", "multiclassova num_class:3 sigmoid:1"}) {
    SCOPED_TRACE(objective);
    ModelSpec m;
    m.num_class = m.per_iteration = 3;
    m.objective = objective;
    for (int it = 0; it < 2; ++it)
      for (int k = 0; k < 3; ++k)
        m.trees.push_back(Numeric(0.1 * k, 8, 0.2 * it, 10, {0.1 * k, -0.3 * it, 0.7 - k}));
    ExpectMatchesOracle(m, 11);
    Forest f = Load(ModelText(m));
    EXPECT_EQ(f.n_outputs, 3);
    EXPECT_EQ(f.trees_per_iteration, 3);
    std::vector<double> x = {0.05, 0.5, 0.0};
    std::vector<double> raw = Raw(f, x);
    std::vector<double> want = OracleRaw(m.trees, 3, x.data(), 3);
    Predictions p;
    Finalize(f, raw.data(), 1, OutputKind::kPrediction, &p);
    std::vector<double> conv(3);
    if (std::string(objective).starts_with("multiclassova")) {
      for (int k = 0; k < 3; ++k) conv[k] = 1.0f / (1.0f + std::exp(-1.0 * want[k]));
    } else {  // Common::Softmax
      double wmax = std::max({want[0], want[1], want[2]}), wsum = 0;
      for (int k = 0; k < 3; ++k) wsum += (conv[k] = std::exp(want[k] - wmax));
      for (int k = 0; k < 3; ++k) conv[k] /= wsum;
    }
    for (int k = 0; k < 3; ++k) EXPECT_EQ(p.values[k], conv[k]) << k;
    EXPECT_EQ(p.label[0], std::max_element(conv.begin(), conv.end()) - conv.begin());
  }
}

TEST(LightgbmImportTest, RegressionLinks) {
  struct Case {
    const char* objective;
    Link link;
    double (*convert)(double);
  };
  const Case cases[] = {
      {"regression", Link::kIdentity, [](double x) { return x; }},
      {"regression sqrt", Link::kSignedSquare, [](double x) { return ((x > 0) - (x < 0)) * x * x; }},
      {"quantile sqrt", Link::kSignedSquare, [](double x) { return ((x > 0) - (x < 0)) * x * x; }},
      {"huber", Link::kIdentity, [](double x) { return x; }},
      {"fair", Link::kIdentity, [](double x) { return x; }},
      {"regression_l1", Link::kIdentity, [](double x) { return x; }},
      {"mape", Link::kIdentity, [](double x) { return x; }},
      {"poisson", Link::kExp, [](double x) { return std::exp(x); }},
      {"gamma", Link::kExp, [](double x) { return std::exp(x); }},
      {"tweedie", Link::kExp, [](double x) { return std::exp(x); }},
      {"cross_entropy", Link::kSigmoid, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
      {"xentropy", Link::kSigmoid, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
      {"cross_entropy_lambda", Link::kSoftplus, [](double x) { return std::log1p(std::exp(x)); }},
      {"lambdarank", Link::kIdentity, [](double x) { return x; }},
      {"rank_xendcg", Link::kIdentity, [](double x) { return x; }},
      {"custom", Link::kIdentity, [](double x) { return x; }},
      {"", Link::kIdentity, [](double x) { return x; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.objective);
    ModelSpec m;
    m.objective = c.objective;
    m.trees = {Numeric(0.5, 8, 1.5, 8, {-1.5, 0.25, 2.0})};
    Forest f = Load(ModelText(m));
    EXPECT_EQ(f.kind, ModelKind::kRegressor);
    EXPECT_EQ(f.link, c.link);
    std::vector<double> x = {0.0, 0.0, 0.0, 1.0, 2.0, 0.0};
    std::vector<double> raw = Raw(f, x);
    Predictions p;
    Finalize(f, raw.data(), 2, OutputKind::kPrediction, &p);
    EXPECT_EQ(p.values[0], c.convert(-1.5));
    EXPECT_EQ(p.values[1], c.convert(2.0));
  }
}

TEST(LightgbmImportTest, RandomForestAveragesPredictionsNotRawScores) {
  ModelSpec m;
  m.objective = "binary sigmoid:1";
  m.average_output = true;
  m.trees = {Numeric(0.5, 8, 1.5, 8, {-1.0, 0.5, 2.0}), Numeric(0.5, 8, 1.5, 8, {-2.0, 1.5, 3.0}),
             Numeric(0.5, 8, 1.5, 8, {0.0, 0.5, 1.0})};
  Forest f = Load(ModelText(m));
  EXPECT_EQ(f.aggregate, Aggregate::kSumMean);
  std::vector<double> x = {0.0, 0.0, 0.0};
  std::vector<double> raw = Raw(f, x);
  Predictions p, mg;
  Finalize(f, raw.data(), 1, OutputKind::kPrediction, &p);
  Finalize(f, raw.data(), 1, OutputKind::kMargin, &mg);
  EXPECT_EQ(mg.values[0], -3.0);  // LightGBM's raw score is the sum
  EXPECT_EQ(p.values[1], 1.0f / (1.0f + std::exp(-(-3.0 / 3))));
  // Iteration ranges slice rounds, and the mean follows the slice.
  auto sliced = SliceIterations(f, IterationRange{1, 3});
  ASSERT_TRUE(sliced.ok());
  raw = Raw(*sliced, x);
  Finalize(*sliced, raw.data(), 1, OutputKind::kPrediction, &p);
  EXPECT_EQ(p.values[1], 1.0f / (1.0f + std::exp(-(-2.0 / 2))));
  auto bytes = SerializeNativeModel(f);
  ASSERT_TRUE(bytes.ok());
  auto back = LoadNativeModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->aggregate, Aggregate::kSumMean);
}

TEST(LightgbmImportTest, SingleLeafTrees) {
  ModelSpec m;
  LgbTree leaf;
  leaf.leaf_value = {0.75};
  m.trees = {leaf, Numeric(0.5, 8, 1.5, 8)};
  ExpectMatchesOracle(m);
}

// Errors: the kind, and the line they name.
struct BadCase {
  const char* what;
  std::string text;
  StatusCode code;
  uint64_t line;  // 0: not checked
  const char* message;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(LightgbmImportTest, RefusesBadModelsWithLineNumbers) {
  ModelSpec m;
  m.trees = {Numeric(0.5, 8, 1.5, 8)};
  const std::string good = ModelText(m);
  auto line_of = [&](const std::string& needle) {
    size_t at = good.find(needle);
    return static_cast<uint64_t>(std::count(good.begin(), good.begin() + at, '\n') + 1);
  };
  const std::vector<BadCase> cases = {
      {"linear", Replace(good, "is_linear=0", "is_linear=1"), StatusCode::kUnsupported, line_of("is_linear"),
       "linear tree"},
      {"child", Replace(good, "left_child=-1 -2", "left_child=-1 -9"), StatusCode::kInvalidData,
       line_of("left_child"), "out of range"},
      {"feature", Replace(good, "split_feature=0 1", "split_feature=0 3"), StatusCode::kInvalidData,
       line_of("split_feature"), "feature 3 out of range"},
      {"count", Replace(good, "leaf_value=-1 0.25 2", "leaf_value=-1 0.25"), StatusCode::kInvalidData,
       line_of("leaf_value"), "2 values, expected 3"},
      {"number", Replace(good, "threshold=0.5", "threshold=0.5x"), StatusCode::kInvalidData,
       line_of("threshold"), "not a number"},
      {"objective", Replace(good, "objective=regression", "objective=magic"), StatusCode::kUnsupported,
       line_of("objective"), "unknown objective"},
      {"sizes", Replace(good, "tree_sizes=", "tree_sizes=1"), StatusCode::kInvalidData, line_of("tree_sizes"),
       "tree_sizes"},
      {"truncated", good.substr(0, good.find("end of trees")), StatusCode::kInvalidData, 0, "truncated"},
      {"truncated tree", good.substr(0, good.find("leaf_value")), StatusCode::kInvalidData, 0, "leaf_value"},
      {"names", Replace(good, "feature_names=f0 f1 f2", "feature_names=f0 f1"), StatusCode::kInvalidData,
       line_of("feature_names"), "2 entries"},
      {"empty name", Replace(good, "feature_names=f0 f1 f2", "feature_names=f0  f2"),
       StatusCode::kInvalidData, line_of("feature_names"), "feature 1 has an empty name"},
      {"version", Replace(good, "version=v4", "version=v9"), StatusCode::kUnsupported, 2, "v9"},
      {"header", Replace(good, "label_index=0", "label_index=0\nmystery=1"), StatusCode::kUnsupported,
       line_of("label_index") + 1, "mystery"},
      {"decision", Replace(good, "decision_type=8 8", "decision_type=8 12"), StatusCode::kInvalidData,
       line_of("decision_type"), "decision_type 12"},
      {"categorical without num_cat", Replace(good, "decision_type=8 8", "decision_type=9 8"),
       StatusCode::kInvalidData, line_of("decision_type"), "num_cat=0"},
      {"cycle", Replace(good, "right_child=1 -3", "right_child=0 -3"), StatusCode::kInvalidData, 0, "tree 0"},
      {"tree index", Replace(good, "Tree=0", "Tree=5"), StatusCode::kInvalidData, line_of("Tree=0"),
       "tree 5"},
      {"duplicate", Replace(good, "num_class=1", "num_class=1\nnum_class=2"), StatusCode::kInvalidData,
       line_of("num_class") + 1, "twice"},
      {"nan leaf", Replace(good, "leaf_value=-1", "leaf_value=nan"), StatusCode::kInvalidData,
       line_of("leaf_value"), "NaN"},
      {"sigmoid", Replace(good, "objective=regression", "objective=binary sigmoid:0"),
       StatusCode::kInvalidData, line_of("objective"), "sigmoid"},
      {"multiclass", Replace(good, "objective=regression", "objective=multiclass num_class:3"),
       StatusCode::kInvalidData, line_of("objective"), "num_class"},
      {"first line", "version=v4\n", StatusCode::kInvalidData, 1, "tree"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = LoadLightgbmText(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    if (c.line) {
      EXPECT_EQ(r.status().line(), c.line) << r.status().ToString();
    }
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
  }
  // Through LoadModelBytes the message names the file and line.
  auto r = LoadModelBytes(cases[0].text, "m.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString().rfind("m.txt:" + std::to_string(cases[0].line) + ": ", 0), 0u)
      << r.status().ToString();
}

TEST(LightgbmImportTest, TruncationsNeverCrash) {
  ModelSpec m;
  m.objective = "multiclass num_class:2";
  m.num_class = m.per_iteration = 2;
  LgbTree cat;
  cat.split_feature = {2};
  cat.threshold = {0};
  cat.decision_type = {1};
  cat.left = {~0};
  cat.right = {~1};
  cat.leaf_value = {1, 2};
  cat.cat_boundaries = {0, 1};
  cat.cat_threshold = {5};
  m.trees = {Numeric(0.5, 8, 1.5, 8), cat};
  const std::string text = ModelText(m);
  size_t loaded = 0;
  for (size_t n = 0; n <= text.size(); ++n) loaded += LoadLightgbmText(text.substr(0, n)).ok();
  EXPECT_GE(loaded, 1u);  // the whole file (and cuts after "end of trees")
}

// LightGBM never splits one feature both ways (its bin mapper is numeric or
// categorical); such a file is refused rather than mapped wrongly.
TEST(LightgbmImportTest, FeatureSplitBothWaysIsRefused) {
  ModelSpec m;
  LgbTree cat;
  cat.split_feature = {1};
  cat.threshold = {0};
  cat.decision_type = {1};
  cat.left = {~0};
  cat.right = {~1};
  cat.leaf_value = {1, 2};
  cat.cat_boundaries = {0, 1};
  cat.cat_threshold = {5};
  m.trees = {Numeric(0.5, 8, 1.5, 8), cat};
  auto r = LoadLightgbmText(ModelText(m));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("feature 1 has both numeric and categorical splits"), std::string::npos)
      << r.status().ToString();
}

// The float64 input map: every feature gets LightGBM's rules; thresholds
// are signed ranks with 0 for the zero band alone (common/float64_features.h).
TEST(LightgbmImportTest, ThresholdsBecomeSignedRanks) {
  ModelSpec m;
  m.trees = {Numeric(-0.25, 8, 1.5, 8), Numeric(0.5, 8, 0.0, 8), Numeric(1e-36, 8, -1e-36, 8)};
  Forest f = Load(ModelText(m));
  ASSERT_EQ(f.float64_features.size(), 3u);
  const Float64Feature& f0 = f.float64_features[0];
  EXPECT_TRUE(f0.lightgbm);
  EXPECT_EQ(f0.cuts, (std::vector<double>{-0.25, 1e-36, 0.5}));
  EXPECT_EQ(f0.below_zero, 1);
  // Ranks: v <= -0.25 -> -2, (-0.25, 0) outside the band -> -1, the band
  // -> 0, positives past the band up to 0.5 -> 2 (1 would be (0, 1e-36],
  // all inside the band), above 0.5 -> 3.
  EXPECT_EQ(f.trees[0].nodes[0].threshold, -2.0f);  // T(-0.25) = 0 - 1 - 1
  EXPECT_EQ(f.trees[1].nodes[0].threshold, 2.0f);   // T(0.5) = 2 - 1 + 1
  EXPECT_EQ(f.trees[2].nodes[0].threshold, 1.0f);   // T(1e-36) = 1 - 1 + 1
  EXPECT_EQ(Float64FeatureValue(f0, -0.3), -2.0f);
  EXPECT_EQ(Float64FeatureValue(f0, -0.25), -2.0f);
  EXPECT_EQ(Float64FeatureValue(f0, -0.2), -1.0f);
  EXPECT_EQ(Float64FeatureValue(f0, -1e-30), -1.0f);
  EXPECT_EQ(Float64FeatureValue(f0, -1e-36), 0.0f);
  EXPECT_EQ(Float64FeatureValue(f0, 1e-36), 0.0f);
  EXPECT_EQ(Float64FeatureValue(f0, 1e-30), 2.0f);
  EXPECT_EQ(Float64FeatureValue(f0, 0.5), 2.0f);
  EXPECT_EQ(Float64FeatureValue(f0, std::nextafter(0.5, 1.0)), 3.0f);
  EXPECT_TRUE(std::isnan(Float64FeatureValue(f0, std::nan(""))));
  const Float64Feature& f1 = f.float64_features[1];
  EXPECT_EQ(f1.cuts, (std::vector<double>{-1e-36, 0.0, 1.5}));
  EXPECT_EQ(f1.below_zero, 1);
  EXPECT_TRUE(f.float64_features[2].cuts.empty());
}

// Replays fuzz/corpus/lightgbm: nothing may crash; the seeds (files not
// named crash-* or bad-*) must load, and the engines agree on them.
TEST(LightgbmImportTest, FuzzCorpusRegression) {
  size_t seeds = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/lightgbm")) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = LoadLightgbmText(ss.str());
    const std::string name = e.path().filename().string();
    if (name.starts_with("crash-") || name.starts_with("bad-")) continue;
    ++seeds;
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    auto shared = std::make_shared<const Forest>(*r);
    std::vector<float> x = Mapped(*r, {0.0, -0.0, 1e-36, -0.5, 31.9, 32.0, std::nan(""), 0.5, 3.0, -1.0});
    const size_t rows = x.size() / r->n_features;
    std::vector<double> want(rows * r->n_outputs), got(want.size());
    MakeReferencePredictor(shared)->PredictRaw(x.data(), rows, want.data());
    for (SimdTarget target : SupportedSimdTargets()) {
      MakeCompiledPredictor(shared, target)->PredictRaw(x.data(), rows, got.data());
      EXPECT_EQ(got, want) << name << " " << SimdTargetName(target);
    }
  }
  EXPECT_GE(seeds, 3u);
}

}  // namespace
}  // namespace fb
