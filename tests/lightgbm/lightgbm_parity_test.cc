// Every LightGBM fixture (tests/lightgbm/fixtures, made by LightGBM's own
// command-line program: make_fixtures.sh) against LightGBM's predictions on
// the same rows: raw scores (predict_raw_score=true) and converted outputs
// within 1e-12 relative, identical labels, iteration ranges, every engine
// and the native round trip bit-identical to the reference predictor. The
// rows are read as doubles and mapped as the table readers map them
// (common/float64_features.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/simd.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "model/iterations.h"

namespace fb {
namespace {

const std::string kDir = std::string(FB_SOURCE_DIR) + "/tests/lightgbm/fixtures";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rows of numbers split by `sep` ("nan", "inf", "-0.0" allowed); float32
// rows are parsed straight to float (strtof: correctly rounded, as the CSV
// reader).
template <typename T>
std::vector<std::vector<T>> ReadMatrix(const std::string& path, char sep) {
  std::vector<std::vector<T>> rows;
  std::istringstream in(ReadText(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<T> row;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, sep)) {
      char* end = nullptr;
      T v;
      if constexpr (std::is_same_v<T, float>) {
        v = std::strtof(cell.c_str(), &end);
      } else {
        v = std::strtod(cell.c_str(), &end);
      }
      EXPECT_EQ(*end, '\0') << path << ": '" << cell << "'";
      row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    if (f.ends_with(".pred") && !f.ends_with(".range.pred")) names.push_back(f.substr(0, f.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Stats {
  size_t values = 0, exact = 0;
  double max_rel = 0;
};

void ExpectClose(double ours, double theirs, Stats* st, const std::string& where) {
  ++st->values;
  if (ours == theirs || (std::isnan(ours) && std::isnan(theirs))) {
    ++st->exact;
    return;
  }
  const double rel = std::abs(ours - theirs) / std::abs(theirs);
  st->max_rel = std::max(st->max_rel, rel);
  EXPECT_LE(rel, 1e-12) << where << ": ours " << ours << " LightGBM " << theirs;
}

// One model (or an iteration range of it) against NAME[.range].raw/.pred.
void Compare(const Forest& f, const std::vector<float>& x, size_t n, const std::string& stem, Stats* st) {
  SCOPED_TRACE(stem);
  auto raw_want = ReadMatrix<double>(kDir + "/" + stem + ".raw", '\t');
  auto pred_want = ReadMatrix<double>(kDir + "/" + stem + ".pred", '\t');
  ASSERT_EQ(raw_want.size(), n);
  ASSERT_EQ(pred_want.size(), n);
  auto shared = std::make_shared<const Forest>(f);
  std::vector<double> raw(n * f.n_outputs);
  MakeReferencePredictor(shared)->PredictRaw(x.data(), n, raw.data());
  for (SimdTarget target : SupportedSimdTargets()) {
    std::vector<double> got(raw.size());
    MakeCompiledPredictor(shared, target)->PredictRaw(x.data(), n, got.data());
    ASSERT_EQ(std::memcmp(got.data(), raw.data(), raw.size() * sizeof(double)), 0) << SimdTargetName(target);
  }
  Predictions margin, pred;
  Finalize(f, raw.data(), n, OutputKind::kMargin, &margin);
  Finalize(f, raw.data(), n, OutputKind::kPrediction, &pred);
  const bool binary = f.kind == ModelKind::kClassifier && f.n_outputs == 1;
  for (size_t r = 0; r < n; ++r) {
    ASSERT_EQ(raw_want[r].size(), static_cast<size_t>(f.n_outputs));
    ASSERT_EQ(pred_want[r].size(), static_cast<size_t>(f.n_outputs));
    for (int32_t k = 0; k < f.n_outputs; ++k) {
      const std::string where = "row " + std::to_string(r) + " output " + std::to_string(k);
      ExpectClose(margin.values[r * f.n_outputs + k], raw_want[r][k], st, "raw " + where);
      ExpectClose(pred.values[r * pred.n_cols + (binary ? 1 : k)], pred_want[r][k], st,
                  "prediction " + where);
    }
    if (f.kind == ModelKind::kClassifier) {
      // LGBMClassifier.predict: argmax of [1 - p, p] or of the class outputs.
      const std::vector<double>& w = pred_want[r];
      int32_t label = binary ? (w[0] > 1.0 - w[0] ? 1 : 0)
                             : static_cast<int32_t>(std::max_element(w.begin(), w.end()) - w.begin());
      EXPECT_EQ(pred.label[r], label) << "row " << r;
    }
  }
  // .fbm keeps every decision.
  auto bytes = SerializeNativeModel(f);
  ASSERT_TRUE(bytes.ok());
  auto back = LoadNativeModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  std::vector<double> again(raw.size());
  MakeBestPredictor(std::make_shared<const Forest>(std::move(back).value()))
      ->PredictRaw(x.data(), n, again.data());
  EXPECT_EQ(std::memcmp(again.data(), raw.data(), raw.size() * sizeof(double)), 0);
}

TEST(LightgbmParityTest, EveryFixtureMatchesLightgbm) {
  const std::vector<std::string> names = FixtureNames();
  ASSERT_GE(names.size(), 25u) << "fixtures missing in " << kDir;
  // Doubles, as LightGBM reads them, through the model's float64 input map
  // (as the table readers hand them to the trees).
  auto rows = ReadMatrix<double>(kDir + "/X.csv", ',');
  ASSERT_FALSE(rows.empty());
  Stats st;
  size_t ranges = 0;
  for (const std::string& name : names) {
    auto r = LoadModelFile(kDir + "/" + name + ".txt");
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    ASSERT_EQ(r->float64_features.size(), static_cast<size_t>(r->n_features)) << name;
    std::vector<float> x;
    for (const auto& row : rows) {
      ASSERT_EQ(row.size(), static_cast<size_t>(r->n_features)) << name;
      for (size_t j = 0; j < row.size(); ++j)
        x.push_back(Float64FeatureValue(r->float64_features[j], row[j]));
    }
    Compare(*r, x, rows.size(), name, &st);
    if (std::filesystem::exists(kDir + "/" + name + ".range.pred")) {
      // start_iteration_predict=5 num_iteration_predict=7
      auto sliced = SliceIterations(*r, IterationRange{5, 12});
      ASSERT_TRUE(sliced.ok()) << sliced.status().ToString();
      Compare(*sliced, x, rows.size(), name + ".range", &st);
      ++ranges;
    }
  }
  EXPECT_EQ(ranges, 3u);
  std::printf("%zu fixtures, %zu values compared, %zu bit-identical, largest relative difference %.3g\n",
              names.size(), st.values, st.exact, st.max_rel);
}

TEST(LightgbmParityTest, LinearTreesAreRefused) {
  auto r = LoadModelFile(kDir + "/linear_tree.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("linear"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace fb
