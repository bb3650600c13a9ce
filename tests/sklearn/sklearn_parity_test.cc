// Parity with scikit-learn: each fixture in tests/sklearn/fixtures (written by
// make_fixtures.py with Debian's scikit-learn) is loaded with LoadModelFile,
// predicted with the reference predictor, and compared with what
// scikit-learn predicted: identical labels, probabilities / values within 1e-6.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/simd.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "sklearn_fixtures.h"

namespace fb {
namespace {

using namespace sklearn_test;

const std::string kFixtures = std::string(FB_SOURCE_DIR) + "/tests/sklearn/fixtures/";

// scikit-learn reads X as float64 and casts to float32: parse as double first.
std::vector<float> ParseX(const std::vector<std::vector<std::string>>& rows, size_t n_features) {
  std::vector<float> x;
  for (const auto& r : rows) {
    EXPECT_EQ(r.size(), n_features);
    for (const auto& c : r)
      x.push_back(c.empty() ? NAN : static_cast<float>(std::strtod(c.c_str(), nullptr)));
  }
  return x;
}

// A set of fixtures and the scikit-learn that made it.
struct FixtureSet {
  std::string sklearn, dir;  // dir ends with '/'
  size_t min_cases;
  // Trees pickled by >= 1.3 carry missing_go_to_left: NaN is routed by it
  // (for the estimators that version lets predict NaN).
  bool missing_values_supported;
};
// fixtures/: Debian 12's scikit-learn 1.2.1 (make_fixtures.py); sklearn14/:
// Debian 13's 1.4.2 with numpy 2.2 (make_newer_fixtures.py, sklearn14/README.md),
// including models fitted on data with missing values.
const FixtureSet kSets[] = {{"1.2.1", kFixtures, 30, false},
                            {"1.4.2", std::string(FB_SOURCE_DIR) + "/tests/sklearn/sklearn14/", 40, true}};

void CheckParity(const Forest& forest, const std::vector<float>& x, size_t n_rows,
                 const std::vector<std::vector<std::string>>& expected, size_t label_col, size_t proba_col,
                 const std::string& what) {
  ASSERT_EQ(expected.size(), n_rows) << what;
  auto shared = std::make_shared<const Forest>(forest);
  auto predictor = MakeReferencePredictor(shared);
  std::vector<double> raw(n_rows * static_cast<size_t>(forest.n_outputs));
  predictor->PredictRaw(x.data(), n_rows, raw.data());
  Predictions p;
  Finalize(forest, raw.data(), n_rows, OutputKind::kPrediction, &p);
  // Outputs of labels only take PredictLabels (label margins where the
  // compiled forest has them): the same labels on every target.
  if (forest.kind == ModelKind::kClassifier) {
    for (SimdTarget target : SupportedSimdTargets()) {
      auto compiled = MakeCompiledPredictor(shared, target);
      LabelScratch scratch;
      Predictions labels;
      PredictLabels(*compiled, forest, x.data(), n_rows, &scratch, &labels);
      EXPECT_EQ(labels.label, p.label) << what << " " << compiled->name();
    }
  }
  int mismatches = 0;
  for (size_t r = 0; r < n_rows && mismatches < 5; ++r) {
    const auto& e = expected[r];
    if (forest.kind == ModelKind::kClassifier) {
      ASSERT_EQ(e.size(), proba_col + static_cast<size_t>(p.n_cols)) << what << " row " << r;
      if (forest.class_labels[static_cast<size_t>(p.label[r])] != e[label_col]) {
        ++mismatches;
        ADD_FAILURE() << what << " row " << r << ": label " << forest.class_labels[p.label[r]]
                      << " != " << e[label_col];
      }
      for (int32_t k = 0; k < p.n_cols; ++k) {
        double want = std::strtod(e[proba_col + static_cast<size_t>(k)].c_str(), nullptr);
        EXPECT_NEAR(p.values[r * p.n_cols + k], want, 1e-6) << what << " row " << r << " class " << k;
      }
    } else {
      ASSERT_EQ(e.size(), label_col + 1) << what << " row " << r;
      double want = std::strtod(e[label_col].c_str(), nullptr);
      EXPECT_NEAR(p.values[r], want, 1e-6 * std::max(1.0, std::fabs(want))) << what << " row " << r;
    }
  }
}

TEST(SklearnParity, EveryFixture) {
  for (const FixtureSet& set : kSets) {
    SCOPED_TRACE("scikit-learn " + set.sklearn);
    auto cases = ReadManifest(set.dir);
    ASSERT_GE(cases.size(), set.min_cases);
    size_t with_missing = 0;
    for (const FixtureCase& c : cases) {
      SCOPED_TRACE(c.name);
      auto forest = LoadModelFile(set.dir + c.model);
      ASSERT_TRUE(forest.ok()) << forest.status().ToString();
      EXPECT_EQ(ModelKindName(forest->kind), c.kind);
      // Columns: one probability per class the manifest names, after the label.
      EXPECT_EQ(forest->class_labels.size(), c.n_classes);
      auto rows = ReadCsv(set.dir + c.name + ".X.csv");
      ASSERT_FALSE(rows.empty());
      auto x = ParseX(rows, static_cast<size_t>(forest->n_features));
      if (FindMissing(x.data(), rows.size(), static_cast<size_t>(forest->n_features)) >= 0) ++with_missing;
      auto expected = ReadCsv(set.dir + c.name + ".expected.csv");
      CheckParity(*forest, x, rows.size(), expected, 0, 1, c.name);
      EXPECT_FALSE(forest->info.library_version.empty());
      EXPECT_EQ(forest->info.library_version, set.sklearn);
      // NaN input as scikit-learn allows it: decision trees and random forests
      // of 1.4; extra trees only from 1.6 (sklearn_pickle.cc).
      EXPECT_EQ(forest->missing_values_supported,
                set.missing_values_supported && c.name.find("ExtraTree") == std::string::npos);
    }
    // 1.4.2: five models fitted on rows with NaN, predicted on rows with NaN.
    EXPECT_EQ(with_missing, set.missing_values_supported ? 5u : 0u);
  }
}

// Every engine `predict` may use (the compiled layouts on every SIMD target
// this CPU runs) and the native format (`model convert`) must give exactly
// the reference predictor's sums on every fixture and on the seed model.
TEST(SklearnParity, CompiledEnginesAndNativeFormatAreBitExact) {
  std::vector<FixtureCase> cases;
  for (const FixtureSet& set : kSets)
    for (const FixtureCase& c : ReadManifest(set.dir)) cases.push_back(c);
  cases.push_back(FixtureCase{kFixtures, "seed", "../../../examples/seed/model.joblib", "classifier"});
  for (const FixtureCase& c : cases) {
    const std::string& dir = c.dir;
    SCOPED_TRACE(dir + c.name);
    auto forest = LoadModelFile(dir + c.model);
    ASSERT_TRUE(forest.ok()) << forest.status().ToString();
    auto rows = ReadCsv(c.name == "seed" ? std::string(FB_SOURCE_DIR) + "/examples/seed/test-data1-small.csv"
                                         : dir + c.name + ".X.csv");
    auto x = ParseX(rows, static_cast<size_t>(forest->n_features));
    const size_t n = rows.size();
    auto shared = std::make_shared<const Forest>(std::move(forest).value());
    const std::vector<double> want = ReferenceSums(shared, x, n);
    ExpectEveryEngineGives(shared, x, n, want);
    auto bytes = SerializeNativeModel(*shared);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto native = LoadModelBytes(*bytes, c.name + ".fbm");
    ASSERT_TRUE(native.ok()) << native.status().ToString();
    ExpectSameBits(ReferenceSums(std::make_shared<const Forest>(std::move(native).value()), x, n), want,
                   "native");
  }
}

// The seed's model (scikit-learn 0.22, GridSearchCV, joblib 0.14 arrays
// without alignment padding) on the seed's sample: all 10,297 rows (the
// seed's predict.py drops the first as a header; we do not).
TEST(SklearnParity, SeedModel) {
  const std::string seed = std::string(FB_SOURCE_DIR) + "/examples/seed/";
  auto forest = LoadModelFile(seed + "model.joblib");
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  EXPECT_EQ(forest->info.estimator, "RandomForestClassifier");
  EXPECT_EQ(forest->info.wrappers, "GridSearchCV.best_estimator_");
  EXPECT_EQ(forest->info.source_format, "joblib");
  auto rows = ReadCsv(seed + "test-data1-small.csv");
  ASSERT_EQ(rows.size(), 10297u);
  auto x = ParseX(rows, static_cast<size_t>(forest->n_features));
  auto expected = ReadCsv(kFixtures + "seed.expected.csv.gz");
  CheckParity(*forest, x, rows.size(), expected, 0, 1, "seed");
}

// Node records with missing_go_to_left (scikit-learn >= 1.3's layout, crafted
// by make_fixtures.py from a 1.2 tree): NaN follows each node's flag. The
// expected values come from a Python walker of 1.3's rule that was checked
// against scikit-learn's own predict_proba on the rows without NaN.
TEST(SklearnParity, MissingGoToLeft) {
  auto forest = LoadModelFile(kFixtures + "missing-go-to-left.pkl");
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  EXPECT_TRUE(forest->missing_values_supported);
  EXPECT_EQ(forest->info.source_format, "pickle");
  auto rows = ReadCsv(kFixtures + "missing-go-to-left.X.csv");
  auto x = ParseX(rows, 4);
  EXPECT_GE(FindMissing(x.data(), rows.size(), 4), 0);
  bool some_left = false, some_right = false;
  for (const Node& n : forest->trees[0].nodes) {
    if (n.is_leaf()) continue;
    (n.default_left ? some_left : some_right) = true;
  }
  EXPECT_TRUE(some_left && some_right);
  CheckParity(*forest, x, rows.size(), ReadCsv(kFixtures + "missing-go-to-left.expected.csv"), 0, 1,
              "missing");
}

TEST(SklearnParity, UnsupportedModelsAreNamed) {
  const std::string dir = kFixtures + "unsupported/";
  struct Want {
    const char* file;
    StatusCode code;
    const char* text;
  };
  for (const Want& w : {
           Want{"multioutput.joblib", StatusCode::kUnsupported, "multi-output"},
           Want{"grid-norefit.joblib", StatusCode::kUnsupported, "no best_estimator_"},
       }) {
    auto r = LoadModelFile(dir + w.file);
    ASSERT_FALSE(r.ok()) << w.file;
    EXPECT_EQ(r.status().code(), w.code) << w.file << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(w.text), std::string::npos)
        << w.file << ": " << r.status().ToString();
    EXPECT_EQ(r.status().path(), dir + w.file);
  }
}

// A Pipeline once refused for its StandardScaler now loads with its
// preprocessing, its columns by position (fitted on a numpy array); parity:
// sklearn_pipeline_test.
TEST(SklearnParity, ScalerPipelineLoads) {
  auto r = LoadModelFile(kFixtures + "unsupported/scaler-pipeline.joblib");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NE(r->preprocessing, nullptr);
  EXPECT_FALSE(r->preprocessing->by_name);
  EXPECT_EQ(r->preprocessing->inputs.size(), 4u);
  EXPECT_EQ(r->preprocessing->steps.size(), 1u);
}

TEST(SklearnParity, ModelInfo) {
  auto f = LoadModelFile(kFixtures + "16-RandomForestClassifier-multiclass-grid-joblib-lzma.joblib.lzma");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->info.source_format, "joblib (lzma-compressed)");
  EXPECT_EQ(f->info.estimator, "RandomForestClassifier");
  EXPECT_EQ(f->info.wrappers, "GridSearchCV.best_estimator_");
  EXPECT_EQ(f->info.library_version, "1.2.1");
  EXPECT_EQ(f->n_features, 64);
  EXPECT_EQ(f->trees.size(), 4u);
  EXPECT_TRUE(f->labels_are_integers);
  auto s = LoadModelFile(kFixtures + "19-RandomForestClassifier-strings-pipeline-none-pickle3.pkl");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->info.source_format, "pickle");
  EXPECT_EQ(s->info.wrappers, "Pipeline['model']");
  EXPECT_EQ(s->class_labels, (std::vector<std::string>{"barbera", "barolo", "grignolino"}));
  EXPECT_FALSE(s->labels_are_integers);
  auto n = LoadModelFile(kFixtures + "17-RandomForestClassifier-negints-randomized-joblib-lz4.joblib.lz4");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->class_labels, (std::vector<std::string>{"-7", "3", "42"}));
  auto b = LoadModelFile(kFixtures + "15-RandomForestClassifier-bool-none-joblib-xz.joblib.xz");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->class_labels, (std::vector<std::string>{"False", "True"}));
  auto fl = LoadModelFile(kFixtures + "25-ExtraTreesClassifier-floats-none-joblib-bz2.joblib.bz2");
  ASSERT_TRUE(fl.ok()) << fl.status().ToString();
  EXPECT_EQ(fl->class_labels, (std::vector<std::string>{"-1.0", "2.0", "5.0"}));
  auto named = LoadModelFile(kFixtures + "named-features.joblib");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->feature_names, (std::vector<std::string>{"sepal length (cm)", "sepal width (cm)",
                                                            "petal length (cm)", "petal width (cm)"}));
}

}  // namespace
}  // namespace fb
