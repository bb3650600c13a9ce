#include "model/import/native_format.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "infer/predictor.h"
#include "model/forest_builder.h"
#include "model/import/model_loader.h"

namespace fb {
namespace {

// `f` validated, written in the native format (its bytes in *bytes, if
// given) and loaded back: the first error on the way, or the loaded forest.
Result<Forest> BuildSaveLoad(const Forest& f, std::string* bytes = nullptr) {
  FB_ASSIGN_OR_RETURN(Forest built, BuildForest(f));
  FB_ASSIGN_OR_RETURN(std::string b, SerializeNativeModel(built));
  if (bytes != nullptr) *bytes = b;
  return LoadNativeModel(b);
}

// A forest using every field: categorical node, names, labels, rounds.
Forest Sample() {
  Forest f;
  f.kind = ModelKind::kClassifier;
  f.n_features = 3;
  f.feature_names = {"a", "b", "c"};
  f.n_outputs = 3;
  f.leaf_width = 1;
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0.1, -0.2, 0.3};
  f.link = Link::kSoftmax;
  f.class_labels = {"x", "y", "z"};
  f.categories = {1, 4, 9};
  f.trees_per_iteration = 3;
  f.best_iteration = 1;
  f.predict_uses_best_iteration = true;
  f.info = {"xgboost-json", "XGBoost gbtree", "scikit-learn wrapper", "1.7.4", "multi:softprob"};
  for (int i = 0; i < 6; ++i) {
    Tree t;
    t.output = i % 3;
    t.nodes.resize(5);
    t.nodes[0] = Node{1, 2, 0, 0.25f * i, false};
    t.nodes[1] = Node{3, 4, 2, 0, true, true, 0, 3};
    t.values = {0, 0, 0.5 + i, -1.0 / 3 * i, 1e-300};
    f.trees.push_back(t);
  }
  auto r = BuildForest(f);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

// Sample() as an XGBoost model: float32 values and sums.
Forest SampleFloat32() {
  Forest f = Sample();
  f.float32_sums = true;
  for (double& m : f.base_margin) m = static_cast<float>(m);
  for (Tree& t : f.trees)
    for (double& v : t.values) v = static_cast<float>(v);
  auto r = BuildForest(f);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

void ExpectSameForest(const Forest& a, const Forest& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.n_features, b.n_features);
  EXPECT_EQ(a.feature_names, b.feature_names);
  EXPECT_EQ(a.n_outputs, b.n_outputs);
  EXPECT_EQ(a.leaf_width, b.leaf_width);
  EXPECT_EQ(a.categories, b.categories);
  EXPECT_EQ(a.aggregate, b.aggregate);
  EXPECT_EQ(std::memcmp(a.base_margin.data(), b.base_margin.data(), a.base_margin.size() * 8), 0);
  EXPECT_EQ(a.link, b.link);
  EXPECT_EQ(a.class_labels, b.class_labels);
  EXPECT_EQ(a.labels_are_integers, b.labels_are_integers);
  EXPECT_EQ(a.missing_values_supported, b.missing_values_supported);
  EXPECT_EQ(a.trees_per_iteration, b.trees_per_iteration);
  EXPECT_EQ(a.best_iteration, b.best_iteration);
  EXPECT_EQ(a.predict_uses_best_iteration, b.predict_uses_best_iteration);
  EXPECT_EQ(a.float32_sums, b.float32_sums);
  EXPECT_EQ(a.info.estimator, b.info.estimator);
  EXPECT_EQ(a.info.wrappers, b.info.wrappers);
  EXPECT_EQ(a.info.library_version, b.info.library_version);
  EXPECT_EQ(a.info.objective, b.info.objective);
  ASSERT_EQ(a.trees.size(), b.trees.size());
  for (size_t t = 0; t < a.trees.size(); ++t) {
    const Tree &x = a.trees[t], &y = b.trees[t];
    EXPECT_EQ(x.output, y.output);
    ASSERT_EQ(x.nodes.size(), y.nodes.size());
    EXPECT_EQ(std::memcmp(x.values.data(), y.values.data(), x.values.size() * 8), 0);
    for (size_t i = 0; i < x.nodes.size(); ++i) {
      const Node &n = x.nodes[i], &m = y.nodes[i];
      EXPECT_EQ(n.left, m.left);
      EXPECT_EQ(n.right, m.right);
      EXPECT_EQ(n.feature, m.feature);
      EXPECT_EQ(std::memcmp(&n.threshold, &m.threshold, 4), 0);
      EXPECT_EQ(n.default_left, m.default_left);
      EXPECT_EQ(n.categorical, m.categorical);
      EXPECT_EQ(n.cat_begin, m.cat_begin);
      EXPECT_EQ(n.cat_count, m.cat_count);
    }
  }
}

TEST(NativeFormatTest, RoundTripKeepsEveryField) {
  Forest f = Sample();
  auto bytes = SerializeNativeModel(f);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 8), kNativeMagic);
  auto g = LoadNativeModel(*bytes);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ExpectSameForest(f, *g);
  EXPECT_EQ(g->info.source_format, "native (from xgboost-json)");
  // Converting a native model again keeps the original format's name once.
  auto again = SerializeNativeModel(*g);
  ASSERT_TRUE(again.ok());
  auto h = LoadNativeModel(*again);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->info.source_format, "native (from xgboost-json)");
  EXPECT_EQ(DetectModelFormat(*bytes), ModelFormat::kNative);
}

// Version 1.1: the float32-sums flag survives conversion, and the loaded
// model sums as the original does.
TEST(NativeFormatTest, RoundTripKeepsFloat32Sums) {
  Forest f = SampleFloat32();
  auto bytes = SerializeNativeModel(f);
  ASSERT_TRUE(bytes.ok());
  uint16_t minor;
  std::memcpy(&minor, bytes->data() + 14, 2);
  EXPECT_EQ(minor, kNativeMinorVersion);
  EXPECT_GE(kNativeMinorVersion, 1);
  auto g = LoadNativeModel(*bytes);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->float32_sums);
  ExpectSameForest(f, *g);
  // A float32 model whose leaf is not a float32 value is refused.
  Forest bad = f;
  bad.trees[0].values[2] = 0.1;
  EXPECT_FALSE(BuildForest(bad).ok());
  bad = f;
  bad.base_margin[0] = 0.1;
  EXPECT_FALSE(BuildForest(bad).ok());
}

// Files written by version 1.0 (the committed fuzz seeds, converted from
// XGBoost fixtures before 1.1) still load: no float32 flag, double sums.
TEST(NativeFormatTest, Version10FilesStillLoad) {
  for (const char* name : {"binary_logistic.fbm", "categorical_multi.fbm", "rf_multi.fbm"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/native/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string b = ss.str();
    ASSERT_GE(b.size(), 16u);
    uint16_t major, minor;
    std::memcpy(&major, b.data() + 12, 2);
    std::memcpy(&minor, b.data() + 14, 2);
    EXPECT_EQ(major, 1);
    EXPECT_EQ(minor, 0);
    auto g = LoadNativeModel(b);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_FALSE(g->float32_sums);
  }
}

TEST(NativeFormatTest, LoadsThroughTheMappedFileLoader) {
  auto bytes = SerializeNativeModel(Sample());
  ASSERT_TRUE(bytes.ok());
  std::string path = std::string(FB_BINARY_DIR) + "/native_format_test.fbm";
  std::ofstream(path, std::ios::binary) << *bytes;
  auto g = LoadModelFile(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ExpectSameForest(Sample(), *g);
  std::filesystem::remove(path);
}

TEST(NativeFormatTest, EveryTruncationAndEveryByteFlipIsRejected) {
  auto bytes = SerializeNativeModel(Sample());
  ASSERT_TRUE(bytes.ok());
  const std::string& b = *bytes;
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(LoadNativeModel(std::string_view(b).substr(0, n)).ok()) << n;
  // The CRC catches every single-byte change (CRC-32 detects all burst
  // errors up to 32 bits).
  for (size_t i = 0; i < b.size(); ++i) {
    std::string c = b;
    c[i] ^= 0x5a;
    EXPECT_FALSE(LoadNativeModel(c).ok()) << i;
  }
}

uint32_t Crc(std::string_view b) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
}

// Patches a field and fixes the CRC, to reach the checks behind it.
std::string Patched(std::string b, size_t at, const void* v, size_t n) {
  std::memcpy(b.data() + at, v, n);
  uint32_t crc = Crc(std::string_view(b).substr(12));
  std::memcpy(b.data() + 8, &crc, 4);
  return b;
}

// A float64 input map (HistGradientBoosting) round-trips; a file whose map
// section is not read (renamed to an unknown id, as a reader that predates
// it would skip it) is refused: its nodes say they need the map.
TEST(NativeFormatTest, Float64InputMapRoundTripsAndIsNeverSkipped) {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = 2;
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0.5};
  f.float64_features = {Float64Feature{false, {0.1, 0.35, 1e300}, {}}, Float64Feature{true, {}, {0, 3, 7}}};
  f.categories = {7};
  Tree t;
  t.nodes.resize(5);
  t.nodes[0] = Node{1, 2, 0, 1.0f, false};
  t.nodes[1] = Node{3, 4, 1, 0, true, true, 0, 1};
  t.values = {0, 0, 1.5, -2, 4};
  f.trees.push_back(t);
  std::string bytes;
  auto back = BuildSaveLoad(f, &bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->float64_features.size(), 2u);
  EXPECT_EQ(back->float64_features[0].cuts, f.float64_features[0].cuts);
  EXPECT_TRUE(back->float64_features[1].categorical);
  EXPECT_EQ(back->float64_features[1].known, f.float64_features[1].known);
  uint32_t n_sections;
  std::memcpy(&n_sections, bytes.data() + 24, 4);
  bool renamed = false;
  for (uint32_t k = 0; k < n_sections; ++k) {
    uint32_t id;
    std::memcpy(&id, bytes.data() + 32 + 24 * k, 4);
    if (id != 13) continue;
    const uint32_t unknown = 99;
    auto r = LoadNativeModel(Patched(bytes, 32 + 24 * k, &unknown, 4));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("float64 input flag without the map"), std::string::npos)
        << r.status().ToString();
    renamed = true;
  }
  EXPECT_TRUE(renamed);
}

// LightGBM's map (kinds 2 and 3, since 1.4) round-trips with its rules;
// below_zero is derived from the cuts on load, and a wrong one is refused.
TEST(NativeFormatTest, LightgbmInputMapRoundTrips) {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = 2;
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0.0};
  f.float64_features = {Float64Feature{false, {-0.5, 1e-36, 2.0}, {}, true, 1},
                        Float64Feature{true, {}, {}, true, 0}};
  f.categories = {3};
  Tree t;
  t.nodes.resize(5);
  t.nodes[0] = Node{1, 2, 0, 2.0f, false};
  t.nodes[0].zero_missing = true;
  t.nodes[1] = Node{3, 4, 1, 0, true, true, 0, 1};
  t.nodes[1].cat_truncate = true;
  t.values = {0, 0, 1.5, -2, 4};
  f.trees.push_back(t);
  auto back = BuildSaveLoad(f);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->float64_features.size(), 2u);
  EXPECT_TRUE(back->float64_features[0].lightgbm);
  EXPECT_FALSE(back->float64_features[0].categorical);
  EXPECT_EQ(back->float64_features[0].cuts, f.float64_features[0].cuts);
  EXPECT_EQ(back->float64_features[0].below_zero, 1);
  EXPECT_FALSE(back->float64_features[0].zero_is_missing);
  EXPECT_TRUE(back->float64_features[1].lightgbm);
  EXPECT_TRUE(back->float64_features[1].categorical);
  // Kind 6: the zero band read as missing.
  f.float64_features[0].zero_is_missing = true;
  f.trees[0].nodes[0].zero_missing = false;
  back = BuildSaveLoad(f);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->float64_features[0].zero_is_missing);
  f.float64_features[1].zero_is_missing = true;  // not for categorical features
  EXPECT_FALSE(BuildForest(f).ok());
  f.float64_features[1].zero_is_missing = false;
  f.float64_features[0].below_zero = 2;
  EXPECT_FALSE(BuildForest(f).ok());
  f.float64_features[0].below_zero = 1;
  f.float64_features[1].lightgbm = false;  // one rule for the whole map
  EXPECT_FALSE(BuildForest(f).ok());
}

TEST(NativeFormatTest, ValidatesStructureBehindAGoodChecksum) {
  auto bytes = SerializeNativeModel(Sample());
  ASSERT_TRUE(bytes.ok());
  uint16_t major = 2;
  auto r = LoadNativeModel(Patched(*bytes, 12, &major, 2));
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  uint16_t minor = 7;  // a later minor version still loads
  EXPECT_TRUE(LoadNativeModel(Patched(*bytes, 14, &minor, 2)).ok());
  uint32_t sections = 1000000;
  EXPECT_FALSE(LoadNativeModel(Patched(*bytes, 24, &sections, 4)).ok());
  // First section entry: offset past the end.
  uint64_t off = bytes->size() + 8;
  EXPECT_FALSE(LoadNativeModel(Patched(*bytes, 32 + 8, &off, 8)).ok());
  // A random fuzz of patched bytes with fixed CRCs never crashes, and what
  // loads passes BuildForest (checked inside LoadNativeModel).
  std::mt19937 rng(1);
  for (int i = 0; i < 3000; ++i) {
    std::string c = *bytes;
    int flips = 1 + rng() % 4;
    for (int k = 0; k < flips; ++k) c[12 + rng() % (c.size() - 12)] = static_cast<char>(rng());
    uint32_t crc = Crc(std::string_view(c).substr(12));
    std::memcpy(c.data() + 8, &crc, 4);
    auto g = LoadNativeModel(c);
    if (g.ok()) {
      EXPECT_TRUE(BuildForest(*g).ok());
    }
  }
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

std::vector<std::string> CorpusFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/" + dir))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replays the fuzz corpus (seeds plus any input that once failed): nothing
// may crash (the ASan run checks memory), seeds (*.fbm) must load, and what
// loads must be valid.
TEST(NativeFormatTest, FuzzCorpusRegression) {
  auto files = CorpusFiles("native");
  ASSERT_FALSE(files.empty());
  for (const std::string& path : files) {
    std::string b = Slurp(path);
    auto r = LoadNativeModel(b);
    if (path.ends_with(".fbm")) {
      EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
    }
    if (r.ok()) {
      EXPECT_TRUE(BuildForest(*r).ok()) << path;
    }
    // Seeds written with their compiled layout (*_layout.fbm) read it back.
    if (r.ok() && path.ends_with("_layout.fbm")) {
      EXPECT_NE(r->stored_layout, nullptr) << path;
      EXPECT_TRUE(MakeModelPredictor(std::make_shared<const Forest>(*r)).ok()) << path;
    }
    // As fuzz/native_fuzz.cc: with the CRC made right unless the last byte is odd.
    if (b.size() >= 12 && !(b.back() & 1)) {
      uint32_t crc = Crc(std::string_view(b).substr(12));
      std::memcpy(b.data() + 8, &crc, 4);
      r = LoadNativeModel(b);
      const bool full_ok = r.ok();
      if (r.ok()) {
        EXPECT_TRUE(BuildForest(*r).ok()) << path;
        // A stored layout is refused or read; either way nothing crashes.
        auto forest = std::make_shared<const Forest>(std::move(r).value());
        auto p = MakeModelPredictor(forest);
        if (p.ok() && forest->n_features <= 4096 && forest->n_outputs <= 4096) {
          std::vector<float> x(5 * static_cast<size_t>(forest->n_features), 1.0f);
          std::vector<double> out(5 * static_cast<size_t>(forest->n_outputs));
          (*p)->PredictRaw(x.data(), 5, out.data());
        }
      }
      // The same bytes with the trees' nodes left undecoded (what `predict`
      // does with a mapped file): decoding on demand succeeds exactly when
      // the full load does; the predictor, if the layout holds, predicts a
      // few rows (the kernels on a padded tile) without reading nodes.
      std::shared_ptr<const void> keep(b.data(), [](const void*) {});
      auto lazy = LoadNativeModel(b, keep, path, /*trees_on_demand=*/true);
      if (lazy.ok()) {
        auto forest = std::make_shared<const Forest>(std::move(lazy).value());
        EXPECT_EQ(DecodedForest(forest).ok(), full_ok) << path;
        auto p = MakeModelPredictor(forest);
        if (p.ok() && forest->n_features <= 4096 && forest->n_outputs <= 4096) {
          std::vector<float> x(5 * static_cast<size_t>(forest->n_features), 1.0f);
          std::vector<double> out(5 * static_cast<size_t>(forest->n_outputs));
          (*p)->PredictRaw(x.data(), 5, out.data());
        }
      }
    }
  }
}

}  // namespace
}  // namespace fb
