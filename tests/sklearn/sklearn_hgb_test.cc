// Parity of scikit-learn's HistGradientBoosting* with scikit-learn itself:
// each case in tests/sklearn/fixtures/hgb (real 1.2 models) and hgb/crafted
// (other versions' layouts), written by make_hgb_fixtures.py with Debian's
// scikit-learn 1.2, is loaded, its float64 input rows mapped as the table
// readers map them (common/float64_features.h), predicted by the reference
// predictor and every compiled engine, and compared: raw scores (baseline +
// trees, in scikit-learn's order) bit-identical, labels identical,
// probabilities / values within 1e-6 (identity and expit links are
// bit-identical; exp and softmax go through numpy's vectorised exp on
// AVX-512 machines, which differs from the C library's in the last bit).
// The same rows through FilePredictor (the CSV reader's own parsing) give the
// same predictions, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/format.h"
#include "common/simd.h"
#include "common/test_dir.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "pipeline/file_predictor.h"
#include "sklearn_fixtures.h"

namespace fb {
namespace {

using namespace sklearn_test;

const std::string kDir = std::string(FB_SOURCE_DIR) + "/tests/sklearn/fixtures/hgb/";

// The rows as the trees see them: each double through the model's float64
// map, after the model's preprocessing (a 1.4 _preprocessor) where it has one.
std::vector<float> MappedRows(const Forest& f, const std::vector<std::vector<std::string>>& rows) {
  std::vector<float> x;
  if (f.preprocessing) {
    const Preprocessing& p = *f.preprocessing;
    EXPECT_FALSE(p.by_name);
    PrepRow row;
    p.Prepare(&row);
    std::vector<float> out(static_cast<size_t>(f.n_features));
    for (const auto& r : rows) {
      EXPECT_EQ(r.size(), static_cast<size_t>(p.n_positions));
      for (const PrepInput& in : p.inputs) row.num[in.slot] = ToDouble(r[static_cast<size_t>(in.position)]);
      Status st = p.Run(&row, out.data(), &f.float64_features);
      EXPECT_TRUE(st.ok()) << st.ToString();
      x.insert(x.end(), out.begin(), out.end());
    }
    return x;
  }
  for (const auto& r : rows) {
    EXPECT_EQ(r.size(), static_cast<size_t>(f.n_features));
    for (size_t j = 0; j < r.size(); ++j)
      x.push_back(Float64FeatureValue(f.float64_features[j], ToDouble(r[j])));
  }
  return x;
}

void CheckCase(const FixtureCase& c, Tally* tally) {
  SCOPED_TRACE(c.name);
  auto loaded = LoadModelFile(c.dir + c.model);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(ModelKindName(loaded->kind), c.kind);
  ASSERT_EQ(loaded->float64_features.size(), static_cast<size_t>(loaded->n_features));
  auto rows = ReadCsv(c.dir + c.name + ".X.csv");
  const size_t n = rows.size();
  auto forest = std::make_shared<const Forest>(std::move(loaded).value());
  const std::vector<float> x = MappedRows(*forest, rows);
  const size_t no = static_cast<size_t>(forest->n_outputs);
  const std::vector<double> raw = ReferenceSums(forest, x, n);

  auto want_raw = ReadCsv(c.dir + c.name + ".raw.csv");
  ASSERT_EQ(want_raw.size(), n);
  for (size_t r = 0; r < n; ++r) {
    ASSERT_EQ(want_raw[r].size(), no);
    for (size_t k = 0; k < no; ++k)
      ASSERT_EQ(raw[r * no + k], ToDouble(want_raw[r][k])) << "row " << r << " k " << k;
  }

  const bool exact_link = forest->link == Link::kIdentity || forest->link == Link::kSigmoid;
  ExpectPredictions(*forest, raw, n, ReadCsv(c.dir + c.name + ".expected.csv"),
                    Closeness{.probability = 1e-6, .value = 1e-6, .exact = exact_link}, tally);

  // Every engine: the reference predictor's sums, bit for bit.
  ExpectEveryEngineGives(forest, x, n, raw);
  // The native format keeps the float64 map, the link and the trees; it has
  // no place for preprocessing, and says so.
  auto bytes = SerializeNativeModel(*forest);
  if (forest->preprocessing) {
    ASSERT_FALSE(bytes.ok());
    EXPECT_NE(bytes.status().message().find("preprocessing"), std::string::npos) << bytes.status().ToString();
    return;
  }
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto native = LoadModelBytes(*bytes, c.name + ".fbm");
  ASSERT_TRUE(native.ok()) << native.status().ToString();
  EXPECT_EQ(native->link, forest->link);
  ASSERT_EQ(native->float64_features.size(), forest->float64_features.size());
  for (size_t j = 0; j < forest->float64_features.size(); ++j) {
    EXPECT_EQ(native->float64_features[j].categorical, forest->float64_features[j].categorical);
    EXPECT_EQ(native->float64_features[j].cuts, forest->float64_features[j].cuts);
    EXPECT_EQ(native->float64_features[j].known, forest->float64_features[j].known);
  }
  ExpectSameBits(ReferenceSums(std::make_shared<const Forest>(std::move(native).value()), x, n), raw,
                 "native");
}

TEST(SklearnHgb, EveryFixtureMatchesScikitLearn) {
  auto cases = ReadManifest(kDir);
  ASSERT_GE(cases.size(), 13u);
  Tally tally;
  for (const FixtureCase& c : cases) CheckCase(c, &tally);
  std::printf("hgb parity: probabilities/values %zu of %zu bit-identical\n", tally.exact_values,
              tally.values);
}

// The same cases fitted and pickled by scikit-learn 1.4.2 with numpy 2.2
// (tests/sklearn/sklearn14/README.md): every model since 1.4 holds a numpy
// Generator (_feature_subsample_rng), read as data. With categorical
// features, 1.4 also keeps a _preprocessor (a ColumnTransformer: an
// OrdinalEncoder for those columns, FunctionTransformer(partial(check_array))
// for the rest, categorical columns first), compiled into the forest's
// preprocessing: the three categorical cases (known, unknown, fractional,
// negative, huge and missing categories) are checked like the others, raw
// scores bit-identical.
TEST(SklearnHgb, RealScikitLearn14FixturesMatch) {
  auto cases = ReadManifest(std::string(FB_SOURCE_DIR) + "/tests/sklearn/sklearn14/hgb/");
  ASSERT_EQ(cases.size(), 12u);
  Tally tally;
  size_t with_preprocessor = 0;
  for (const FixtureCase& c : cases) {
    if (c.name.find("categorical") != std::string::npos) {
      auto r = LoadModelFile(c.dir + c.model);
      ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
      ASSERT_TRUE(r->preprocessing) << c.name;
      EXPECT_TRUE(r->feature_names.empty());
      // The categorical columns 1 and 3 come first; the trees split on them there.
      EXPECT_NE(r->info.objective.find("categorical features: 1, 3"), std::string::npos) << r->info.objective;
      EXPECT_TRUE(r->float64_features[0].categorical || r->float64_features[1].categorical) << c.name;
      EXPECT_FALSE(r->float64_features[2].categorical);
      EXPECT_FALSE(r->float64_features[3].categorical);
      ++with_preprocessor;
    }
    CheckCase(c, &tally);
  }
  EXPECT_EQ(with_preprocessor, 3u);
  EXPECT_GT(tally.values, 500u);
  std::printf("hgb scikit-learn 1.4.2 parity: probabilities/values %zu of %zu bit-identical\n",
              tally.exact_values, tally.values);
}

TEST(SklearnHgb, CraftedLayoutsOfOtherVersionsMatch) {
  auto cases = ReadManifest(kDir + "crafted/");
  ASSERT_GE(cases.size(), 7u);
  Tally tally;
  for (const FixtureCase& c : cases) CheckCase(c, &tally);
  std::printf("hgb crafted parity: probabilities/values %zu of %zu bit-identical\n", tally.exact_values,
              tally.values);
}

TEST(SklearnHgb, ModelInfo) {
  auto f = LoadModelFile(kDir + "hgb-reg-categorical-nan.joblib");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->info.estimator, "HistGradientBoostingRegressor");
  EXPECT_EQ(f->info.objective, "loss=HalfSquaredError, link=identity, categorical features: 1, 3");
  EXPECT_TRUE(f->missing_values_supported);
  EXPECT_TRUE(f->float64_features[1].categorical);
  EXPECT_EQ(f->float64_features[1].known, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(f->float64_features[0].categorical);
  auto q = LoadModelFile(kDir + "hgb-reg-quantile.pkl");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->info.objective, "loss=PinballLoss(quantile=0.8), link=identity, categorical features: none");
  auto m = LoadModelFile(kDir + "hgb-multiclass-strings.joblib.gz");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->link, Link::kSoftmaxNumpy);
  EXPECT_EQ(m->trees_per_iteration, 3);
  EXPECT_EQ(m->class_labels, (std::vector<std::string>{"barbera", "barolo", "grignolino"}));
  auto p = LoadModelFile(kDir + "hgb-reg-poisson.joblib");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->link, Link::kExp);
  auto s = LoadModelFile(kDir + "hgb-binary-early-stop.pkl");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_LT(s->trees.size(), 500u);  // n_iter_ after early stopping
  auto old = LoadModelFile(kDir + "crafted/v0.21-no-missing.pkl");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->missing_values_supported);
  EXPECT_EQ(old->info.library_version, "0.21.3");
  // The iris model make_boosting_fixtures.py once listed as unsupported.
  auto iris =
      LoadModelFile(std::string(FB_SOURCE_DIR) + "/tests/sklearn/fixtures/boosting/unsupported/hgb.pkl");
  ASSERT_TRUE(iris.ok()) << iris.status().ToString();
  EXPECT_EQ(iris->n_outputs, 3);
}

// Cut indices keep float64 comparisons exact where float32 cannot: two
// doubles on either side of a threshold that round to the same float.
TEST(SklearnHgb, Float64CutsSeparateValuesFloat32Merges) {
  Float64Feature num;
  num.cuts = {-1.5, 0.1, 0.35, std::numeric_limits<double>::infinity()};
  const double t = 0.35, above = std::nextafter(t, 1.0);
  ASSERT_EQ(static_cast<float>(t), static_cast<float>(above));
  EXPECT_EQ(Float64FeatureValue(num, t), 2.0f);      // t <= cuts[2]
  EXPECT_EQ(Float64FeatureValue(num, above), 3.0f);  // above > cuts[2], <= cuts[3]
  EXPECT_EQ(Float64FeatureValue(num, -2.0), 0.0f);
  EXPECT_EQ(Float64FeatureValue(num, std::numeric_limits<double>::infinity()), 3.0f);
  EXPECT_TRUE(std::isnan(Float64FeatureValue(num, std::nan(""))));
  Float64Feature cat;
  cat.categorical = true;
  cat.known = {0, 3, 7};
  EXPECT_EQ(Float64FeatureValue(cat, 3.9), 3.0f);
  EXPECT_EQ(Float64FeatureValue(cat, 259.0), 3.0f);         // scikit-learn's uint8 cast keeps the low byte
  EXPECT_EQ(Float64FeatureValue(cat, 2147483651.0), 0.0f);  // >= 2^31: category 0
  EXPECT_EQ(Float64FeatureValue(cat, -0.0), 0.0f);
  EXPECT_TRUE(std::isnan(Float64FeatureValue(cat, -0.5)));  // negative: missing
  EXPECT_TRUE(std::isnan(Float64FeatureValue(cat, 5.0)));   // unknown: missing
}

// A model whose loss object is not what scikit-learn writes is refused as
// broken or hostile (exit 3), and nothing in it is run.
TEST(SklearnHgb, HostileLossObjectsAreRefused) {
  struct Want {
    const char* file;
    const char* text;
  };
  for (const Want& w :
       {Want{"closs-other-class.pkl", "is given sklearn._loss._loss.CyHalfMultinomialLoss"},
        Want{"closs-state-object.pkl", "the state is not a tuple of 0 number(s)"},
        Want{"closs-build-state.pkl", "has a BUILD state"},
        Want{"closs-wrong-function.pkl", "not sklearn._loss._loss.__pyx_unpickle_CyHalfBinomialLoss"},
        Want{"link-mismatch.pkl", "link is IdentityLink, not sklearn._loss.link.LogitLink"},
        Want{"child-out-of-range.pkl", "children or feature out of range"}}) {
    auto r = LoadModelFile(kDir + "crafted/hostile/" + w.file);
    ASSERT_FALSE(r.ok()) << w.file;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << r.status().ToString();
    EXPECT_NE(r.status().message().find(w.text), std::string::npos) << r.status().ToString();
  }
}

// A 1.4 _preprocessor that is not what scikit-learn writes
// (make_hgb14_hostile.py edits the real hgb-clf-categorical.pkl): a
// FunctionTransformer whose partial names another function is unsupported
// (exit 4) naming that function, never called; a column mask of the wrong
// length is a broken file (exit 3) naming the step.
TEST(SklearnHgb, Hostile14PreprocessorsAreRefused) {
  const std::string dir = std::string(FB_SOURCE_DIR) + "/tests/sklearn/sklearn14/hgb/hostile/";
  auto other = LoadModelFile(dir + "partial-other-function.pkl");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kUnsupported) << other.status().ToString();
  for (const char* text : {"HistGradientBoostingClassifier._preprocessor", "'_preprocessor > numerical'",
                           "functools.partial of sklearn.utils.validation.check_X_y"})
    EXPECT_NE(other.status().message().find(text), std::string::npos) << other.status().ToString();
  auto mask = LoadModelFile(dir + "mask-length.pkl");
  ASSERT_FALSE(mask.ok());
  EXPECT_EQ(mask.status().code(), StatusCode::kInvalidData) << mask.status().ToString();
  EXPECT_NE(
      mask.status().message().find("step '_preprocessor > encoder' selects columns by a boolean mask of 5 "
                                   "for 4 columns"),
      std::string::npos)
      << mask.status().ToString();
}

// Damaged HistGradientBoosting pickles (every truncation, every byte
// changed) fail with an error or load a valid forest, never crash (the ASan
// build runs this too).
TEST(SklearnHgb, DamagedFilesFailCleanly) {
  // The second carries a 1.4-style _preprocessor (its categorical column 1
  // becomes feature 0); a damaged copy that still loads runs its program.
  for (const auto& [file, categorical] :
       {std::pair{"hgb-categorical-quantile-p4.pkl", 1}, std::pair{"hgb-preprocessor-p4.pkl", 0}}) {
    SCOPED_TRACE(file);
    std::ifstream in(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/pickle/" + file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string full = ss.str();
    ASSERT_GT(full.size(), 1000u);
    auto ok = LoadModelBytes(full, "hgb.pkl");
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    ASSERT_TRUE(ok->float64_features[static_cast<size_t>(categorical)].categorical);
    EXPECT_EQ(static_cast<bool>(ok->preprocessing), categorical == 0);
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = LoadModelBytes(std::string_view(full).substr(0, n), "hgb.pkl");
      ASSERT_FALSE(r.ok()) << "truncated to " << n;
    }
    size_t loaded = 0;
    for (size_t i = 0; i < full.size(); ++i) {
      for (unsigned char x : {0x01, 0x80, 0xff}) {
        std::string bad = full;
        bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ x);
        auto r = LoadModelBytes(bad, "hgb.pkl");
        if (r.ok()) {
          ++loaded;
          if (r->preprocessing) {
            const Preprocessing& p = *r->preprocessing;
            PrepRow row;
            p.Prepare(&row);
            std::vector<float> out(static_cast<size_t>(r->n_features));
            for (double v : {0.0, 1.0, 2.5, -1.0, std::nan("")}) {
              for (const PrepInput& pi : p.inputs) {
                if (pi.text) {
                  row.SetText(static_cast<int32_t>(&pi - p.inputs.data()), pi.slot, "x", false);
                } else {
                  row.num[static_cast<size_t>(pi.slot)] = v;
                }
              }
              Status st = p.Run(&row, out.data(), &r->float64_features);
              EXPECT_NE(st.code(), StatusCode::kInternal) << st.ToString();
            }
          }
          continue;
        }
        ASSERT_NE(r.status().code(), StatusCode::kInternal) << i << ": " << r.status().ToString();
      }
    }
    std::printf("hgb byte flips of %s: %zu of %zu still load\n", file, loaded, 3 * full.size());
  }
}

// The CSV reader itself applies the float64 map: FilePredictor on the
// fixture's text gives the reference predictor's predictions on the mapped
// rows, bit for bit (categorical probes, NaN, inf and threshold neighbours).
class SklearnHgbFile : public testing::TestDirTest {};

TEST_F(SklearnHgbFile, CsvReaderMapsFloat64Inputs) {
  // The 1.4 categorical models: the reader also runs their _preprocessor.
  const std::string k14 = std::string(FB_SOURCE_DIR) + "/tests/sklearn/sklearn14/hgb/";
  for (const auto& [dir, name] :
       {std::pair{kDir, "hgb-clf-categorical"}, std::pair{kDir, "hgb-reg-squared-error-nan"},
        std::pair{k14, "hgb-clf-categorical"}, std::pair{k14, "hgb-reg-categorical-nan"}}) {
    SCOPED_TRACE(dir + name);
    const FixtureCase c = [&] {
      for (const FixtureCase& k : ReadManifest(dir))
        if (k.name == name) return k;
      return FixtureCase{};
    }();
    ASSERT_FALSE(c.model.empty());
    auto loaded = LoadModelFile(dir + c.model);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto forest = std::make_shared<const Forest>(std::move(loaded).value());
    auto rows = ReadCsv(dir + c.name + ".X.csv");
    const std::vector<float> x = MappedRows(*forest, rows);
    const std::vector<double> raw = ReferenceSums(forest, x, rows.size());
    Predictions p;
    Finalize(*forest, raw.data(), rows.size(), OutputKind::kPrediction, &p);
    std::string want =
        forest->kind == ModelKind::kClassifier ? "prediction,proba_0,proba_1\n" : "prediction\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      if (forest->kind == ModelKind::kClassifier) {
        want += forest->class_labels[static_cast<size_t>(p.label[r])];
        for (int32_t k = 0; k < p.n_cols; ++k) want += "," + PythonFloat(p.values[r * p.n_cols + k]);
      } else {
        want += PythonFloat(p.values[r]);
      }
      want += "\n";
    }
    PredictOptions o;
    o.proba = forest->kind == ModelKind::kClassifier;
    o.header = CsvHeader::kNo;
    auto fp = FilePredictor::Create(forest, o);
    ASSERT_TRUE(fp.ok()) << fp.status().ToString();
    auto st = (*fp)->Run(dir + c.name + ".X.csv", Path("out.csv"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::ifstream in(Path("out.csv"));
    std::stringstream got;
    got << in.rdbuf();
    EXPECT_EQ(got.str(), want);
  }
}

// A 1.4 model with a _preprocessor: +-inf in a numerical column passes
// through (FunctionTransformer(partial(check_array, force_all_finite=False)))
// to the trees; in a categorical column the OrdinalEncoder refuses it
// (check_array with force_all_finite="allow-nan"), and so does the reader,
// naming the column, the step and the line.
TEST_F(SklearnHgbFile, Sklearn14InfinityOnlyInNumericalColumns) {
  auto loaded =
      LoadModelFile(std::string(FB_SOURCE_DIR) + "/tests/sklearn/sklearn14/hgb/hgb-clf-categorical.pkl");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto forest = std::make_shared<const Forest>(std::move(loaded).value());
  PredictOptions o;
  o.header = CsvHeader::kNo;
  auto fp = FilePredictor::Create(forest, o);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  {
    std::ofstream(Path("num.csv")) << "inf,2.0,-inf,7.0\n-inf,5.0,1e300,nan\n";
    auto st = (*fp)->Run(Path("num.csv"), Path("num.out.csv"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    const std::vector<float> x =
        MappedRows(*forest, {{"inf", "2.0", "-inf", "7.0"}, {"-inf", "5.0", "1e300", "nan"}});
    std::vector<double> raw(2);
    MakeReferencePredictor(forest)->PredictRaw(x.data(), 2, raw.data());
    Predictions p;
    Finalize(*forest, raw.data(), 2, OutputKind::kPrediction, &p);
    std::ifstream in(Path("num.out.csv"));
    std::stringstream got;
    got << in.rdbuf();
    EXPECT_EQ(got.str(), "prediction\n" + forest->class_labels[static_cast<size_t>(p.label[0])] + "\n" +
                             forest->class_labels[static_cast<size_t>(p.label[1])] + "\n");
  }
  for (const char* bad : {"inf", "-inf"}) {
    std::ofstream(Path("cat.csv")) << "0.5,2.0,0.1,7.0\n0.5,3.0,0.1," << bad << "\n";
    auto st = (*fp)->Run(Path("cat.csv"), Path("cat.out.csv"));
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.status().code(), StatusCode::kInvalidData);
    EXPECT_EQ(st.status().line(), 2u) << st.status().ToString();
    for (const std::string& text :
         {std::string("Input X contains infinity"),
          std::string(bad) + " in input column 2 (OrdinalEncoder '_preprocessor > encoder', column 1)"})
      EXPECT_NE(st.status().ToString().find(text), std::string::npos) << st.status().ToString();
  }
}

// 1.4-style _preprocessors built with 1.2's classes
// (make_hgb_preprocessor_fixtures.py): fitted on a DataFrame (a string
// category column, columns found by name in a shuffled header with an extra
// column) and inside a Pipeline after an imputer step (no header). The CSV
// reader's output equals scikit-learn's, labels and values bit for bit
// (expit and identity links).
TEST_F(SklearnHgbFile, PreprocessorByNameAndInsideAPipeline) {
  const std::string dir = kDir + "preprocessor/";
  std::ifstream manifest(dir + "manifest.txt");
  std::string line;
  size_t cases = 0;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string name, model, kind, n_classes, header;
    ss >> name >> model >> kind >> n_classes >> header;
    SCOPED_TRACE(name);
    auto loaded = LoadModelFile(dir + model);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_TRUE(loaded->preprocessing);
    EXPECT_TRUE(loaded->feature_names.empty());
    if (name == "names") {
      EXPECT_TRUE(loaded->preprocessing->by_name);
      EXPECT_NE(loaded->info.objective.find("categorical features: color, code"), std::string::npos)
          << loaded->info.objective;
    } else {
      EXPECT_FALSE(loaded->preprocessing->by_name);
      EXPECT_EQ(loaded->info.wrappers, "Pipeline['hgb']");
    }
    auto forest = std::make_shared<const Forest>(std::move(loaded).value());
    PredictOptions o;
    o.proba = forest->kind == ModelKind::kClassifier;
    o.header = header == "header" ? CsvHeader::kYes : CsvHeader::kNo;
    auto fp = FilePredictor::Create(forest, o);
    ASSERT_TRUE(fp.ok()) << fp.status().ToString();
    auto st = (*fp)->Run(dir + name + ".X.csv", Path(name + ".out.csv"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto got = ReadCsv(Path(name + ".out.csv"));
    auto want = ReadCsv(dir + name + ".expected.csv");
    ASSERT_EQ(got.size(), want.size() + 1);  // the output's header
    for (size_t r = 0; r < want.size(); ++r) {
      ASSERT_EQ(got[r + 1].size(), want[r].size()) << "row " << r;
      for (size_t k = 0; k < want[r].size(); ++k) {
        if (k == 0 && forest->kind == ModelKind::kClassifier) {
          EXPECT_EQ(got[r + 1][k], want[r][k]) << "row " << r;
        } else {
          EXPECT_EQ(ToDouble(got[r + 1][k]), ToDouble(want[r][k])) << "row " << r << " column " << k;
        }
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 2u);
}

}  // namespace
}  // namespace fb
