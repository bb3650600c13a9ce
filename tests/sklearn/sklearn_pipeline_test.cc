// Parity of scikit-learn Pipelines with preprocessing (ColumnTransformer,
// encoders, imputers, scalers) with scikit-learn itself: each case in
// tests/sklearn/fixtures/pipeline (written by make_pipeline_fixtures.py with
// Debian's scikit-learn 1.2) is loaded, its input CSV read by the CSV reader
// (columns by name, shuffled, an extra column; strings, unseen categories,
// missing values) with the preprocessing fused into the parse, and compared:
// the transforms' float64 outputs bit-identical to scikit-learn's transform
// (the program run on the raw cells directly), the features the trees see
// bit-identical to those cast to float32, labels identical, probabilities
// and values within 1e-6.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "infer/predictor.h"
#include "io/csv_reader.h"
#include "io/test_streams.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "pipeline/input_schema.h"
#include "sklearn_fixtures.h"

namespace fb {
namespace {

using namespace sklearn_test;

const std::string kDir = std::string(FB_SOURCE_DIR) + "/tests/sklearn/fixtures/pipeline/";

std::vector<FixtureCase> Manifest() { return ReadManifest(kDir); }

// Reads a whole CSV through the reader as predict does (small chunks, so
// rows cross chunk boundaries); the feature rows, or the first error.
Result<std::vector<float>> ReadFeatures(const Forest& f, const std::string& csv, size_t* rows) {
  CsvOptions opt;
  opt.chunk_bytes = 512;
  opt.missing_is_error = !f.missing_values_supported;
  opt.infinity_is_error = InfinityIsError(f);
  FB_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(std::make_unique<testing::StringReadStream>(csv, 97),
                                                   "x.csv", opt, InputSchemaFor(f)));
  std::vector<float> x;
  *rows = 0;
  CsvChunk chunk;
  CsvBlock block;
  for (;;) {
    FB_ASSIGN_OR_RETURN(bool got, reader->NextChunk(&chunk));
    if (!got) break;
    reader->Parse(chunk, &block);
    FB_RETURN_IF_ERROR(reader->Account(block));
    x.insert(x.end(), block.values.begin(), block.values.begin() + block.rows * f.n_features);
    *rows += block.rows;
  }
  return x;
}

// Runs the program on each row of `csv` (simple CSV: no quotes; numbers
// parsed by strtod, empty = missing) and compares its float64 outputs with
// scikit-learn's, bit for bit.
void ExpectDoublesMatch(const Preprocessing& prep, const std::string& csv,
                        const std::vector<std::vector<std::string>>& want) {
  auto rows = ReadCsv(csv);
  ASSERT_FALSE(rows.empty());
  std::vector<int32_t> field(prep.inputs.size());
  size_t first = 0;
  if (prep.by_name) {
    first = 1;
    for (size_t i = 0; i < prep.inputs.size(); ++i) {
      auto it = std::find(rows[0].begin(), rows[0].end(), prep.inputs[i].name);
      ASSERT_NE(it, rows[0].end()) << prep.inputs[i].name;
      field[i] = static_cast<int32_t>(it - rows[0].begin());
    }
  } else {
    for (size_t i = 0; i < prep.inputs.size(); ++i) field[i] = prep.inputs[i].position;
  }
  ASSERT_EQ(rows.size() - first, want.size());
  PrepRow row;
  prep.Prepare(&row);
  std::vector<float> out(prep.outputs.size());
  size_t exact = 0;
  for (size_t r = first; r < rows.size(); ++r) {
    for (size_t i = 0; i < prep.inputs.size(); ++i) {
      const std::string& v = rows[r][field[i]];
      if (prep.inputs[i].text) {
        row.SetText(static_cast<int32_t>(i), prep.inputs[i].slot, v, v.empty());
      } else {
        row.num[prep.inputs[i].slot] = v.empty() ? std::nan("") : ToDouble(v);
      }
    }
    ASSERT_TRUE(prep.Run(&row, out.data()).ok());
    const auto& w = want[r - first];
    ASSERT_EQ(w.size(), prep.outputs.size());
    for (size_t k = 0; k < w.size(); ++k) {
      const double got = row.num[prep.outputs[k]], expect = ToDouble(w[k]);
      ASSERT_TRUE(got == expect || (std::isnan(got) && std::isnan(expect)))
          << "row " << r - first << " feature " << k << ": " << got << " vs " << expect;
      ++exact;
    }
  }
  EXPECT_GT(exact, 0u);
}

TEST(SklearnPipeline, EveryFixtureMatchesScikitLearn) {
  auto cases = Manifest();
  ASSERT_GE(cases.size(), 11u);
  Tally tally;
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto loaded = LoadModelFile(kDir + c.model);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_TRUE(loaded->preprocessing != nullptr);
    EXPECT_FALSE(loaded->preprocessing->steps.empty());
    auto forest = std::make_shared<const Forest>(std::move(loaded).value());
    size_t n = 0;
    auto x = ReadFeatures(*forest, ReadText(kDir + c.name + ".X.csv"), &n);
    ASSERT_TRUE(x.ok()) << x.status().ToString();

    // The features: scikit-learn's transform (float64), bit for bit, then
    // cast to float32 as the reader gives them to the trees.
    auto feats = ReadCsv(kDir + c.name + ".features.csv");
    ASSERT_EQ(feats.size(), n);
    const size_t nf = static_cast<size_t>(forest->n_features);
    ExpectDoublesMatch(*forest->preprocessing, kDir + c.name + ".X.csv", feats);
    for (size_t r = 0; r < n; ++r) {
      ASSERT_EQ(feats[r].size(), nf);
      for (size_t k = 0; k < nf; ++k) {
        // Models that compare float64 inputs (HistGradientBoosting) get each
        // value's exact stand-in (common/float64_features.h).
        const float want = forest->float64_features.empty()
                               ? static_cast<float>(ToDouble(feats[r][k]))
                               : Float64FeatureValue(forest->float64_features[k], ToDouble(feats[r][k]));
        const float got = (*x)[r * nf + k];
        ASSERT_TRUE(got == want || (std::isnan(got) && std::isnan(want)))
            << "row " << r << " feature " << k << ": " << got << " vs " << want;
      }
    }

    std::vector<double> raw(n * static_cast<size_t>(forest->n_outputs));
    MakeReferencePredictor(forest)->PredictRaw(x->data(), n, raw.data());
    ExpectPredictions(*forest, raw, n, ReadCsv(kDir + c.name + ".expected.csv"), Closeness{}, &tally);
    // The native format cannot hold preprocessing: refused, not dropped.
    auto bytes = SerializeNativeModel(*forest);
    EXPECT_EQ(bytes.status().code(), StatusCode::kUnsupported);
  }
  std::printf("pipeline parity: %zu of %zu values bit-identical\n", tally.exact_values, tally.values);
}

TEST(SklearnPipeline, UnsupportedStepsAreNamed) {
  for (auto [file, step, cls] :
       {std::tuple{"function-transformer.joblib", "'log'", "FunctionTransformer"},
        std::tuple{"polynomial-in-ct.joblib", "'prep > poly'", "PolynomialFeatures"}}) {
    SCOPED_TRACE(file);
    auto loaded = LoadModelFile(kDir + "refused/" + file);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kUnsupported) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find(step), std::string::npos) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find(cls), std::string::npos) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find("OneHotEncoder"), std::string::npos);  // the supported list
  }
}

TEST(SklearnPipeline, UnknownCategoryWithHandleUnknownErrorStops) {
  auto loaded = LoadModelFile(kDir + "refused/onehot-error.joblib");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  size_t n = 0;
  auto x = ReadFeatures(*loaded, ReadText(kDir + "refused/onehot-error.X.csv"), &n);
  ASSERT_FALSE(x.ok());
  const std::string msg = x.status().ToString();
  EXPECT_NE(msg.find("'purple'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'color'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":4"), std::string::npos) << msg;  // line 4 of the file (header + 3 rows)
}

TEST(SklearnPipeline, MissingInputColumnIsNamed) {
  auto loaded = LoadModelFile(kDir + "mixed-ct-onehot-ignore-rf.joblib");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  size_t n = 0;
  auto x = ReadFeatures(*loaded, "age,fare,city\n1,2,paris\n", &n);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("color"), std::string::npos) << x.status().ToString();
  // Without a header the columns cannot be found by name.
  x = ReadFeatures(*loaded, "1,2,3,4\n", &n);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("header"), std::string::npos) << x.status().ToString();
  // A text column's number-like value is text; a numeric column's text is an error naming it.
  x = ReadFeatures(*loaded, "age,fare,city,color\nold,2,paris,red\n", &n);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("'age'"), std::string::npos) << x.status().ToString();
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

// Preprocessing attributes that hold calls (os.system, numpy.float64(...),
// getattr, eval in a slice) or objects where data belongs: refused as invalid
// (exit 3), nothing called.
TEST(SklearnPipeline, HostilePicklesAreRefusedAsInvalid) {
  for (const char* file : {"category-os-system.pkl", "mean-reduce-numpy-float64.pkl", "dtype-getattr.pkl",
                           "columns-slice-eval.pkl", "category-object.pkl"}) {
    SCOPED_TRACE(file);
    auto loaded = LoadModelFile(kDir + "hostile/" + file);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidData) << loaded.status().ToString();
  }
}

}  // namespace
}  // namespace fb
