#include "model/import/xgboost_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/ubjson_reader.h"

namespace fb {
namespace {

using nlohmann::json;

// A one-split tree: feature 0 < 0.5 ? -1 : +1 (default left).
json Stump(double cond = 0.5) {
  return {{"tree_param", {{"num_nodes", "3"}, {"num_feature", "2"}, {"size_leaf_vector", "0"}}},
          {"left_children", {1, -1, -1}},
          {"right_children", {2, -1, -1}},
          {"parents", {2147483647, 0, 0}},
          {"split_indices", {0, 0, 0}},
          {"split_conditions", {cond, -1.0, 1.0}},
          {"default_left", {1, 0, 0}},
          {"split_type", {0, 0, 0}},
          {"categories", json::array()},
          {"categories_nodes", json::array()},
          {"categories_segments", json::array()},
          {"categories_sizes", json::array()}};
}

json Model(std::vector<json> trees, const std::string& objective = "reg:squarederror",
           const std::string& base_score = "5E-1", int num_class = 0) {
  json tree_info = json::array();
  for (size_t i = 0; i < trees.size(); ++i) tree_info.push_back(num_class > 1 ? int(i) % num_class : 0);
  return {
      {"version", {1, 7, 4}},
      {"learner",
       {{"attributes", json::object()},
        {"feature_names", json::array()},
        {"feature_types", json::array()},
        {"gradient_booster",
         {{"name", "gbtree"},
          {"model",
           {{"gbtree_model_param", {{"num_trees", std::to_string(trees.size())}, {"num_parallel_tree", "1"}}},
            {"tree_info", tree_info},
            {"trees", trees}}}}},
        {"learner_model_param",
         {{"base_score", base_score},
          {"num_class", std::to_string(num_class)},
          {"num_feature", "2"},
          {"num_target", "1"}}},
        {"objective", {{"name", objective}}}}}};
}

Result<Forest> Load(const json& j) { return LoadXgboostJson(j.dump()); }

double Predict(const Forest& f, std::vector<float> row, OutputKind kind = OutputKind::kMargin) {
  auto p = MakeReferencePredictor(std::make_shared<const Forest>(f));
  std::vector<double> raw(f.n_outputs);
  p->PredictRaw(row.data(), 1, raw.data());
  Predictions out;
  Finalize(f, raw.data(), 1, kind, &out);
  return out.values[out.n_cols - 1];
}

TEST(XgboostImportTest, StumpDecisionRuleIsStrictLessThan) {
  auto f = Load(Model({Stump()}));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->info.source_format, "xgboost-json");
  EXPECT_EQ(f->info.library_version, "1.7.4");
  EXPECT_EQ(f->kind, ModelKind::kRegressor);
  EXPECT_EQ(Predict(*f, {0.4999999f, 0}), 0.5 - 1.0);
  EXPECT_EQ(Predict(*f, {0.5f, 0}), 0.5 + 1.0);  // x < 0.5 is false at 0.5
  EXPECT_EQ(Predict(*f, {NAN, 0}), 0.5 - 1.0);   // default left
  EXPECT_EQ(Predict(*f, {-INFINITY, 0}), 0.5 - 1.0);
  EXPECT_EQ(Predict(*f, {INFINITY, 0}), 0.5 + 1.0);
}

TEST(XgboostImportTest, BaseScoreGoesThroughTheInverseLink) {
  auto f = Load(Model({Stump()}, "binary:logistic", "2.5E-1"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FLOAT_EQ(static_cast<float>(f->base_margin[0]), -std::log(3.0f));
  EXPECT_EQ(f->class_labels, (std::vector<std::string>{"0", "1"}));
  f = Load(Model({Stump()}, "count:poisson", "2E0"));
  ASSERT_TRUE(f.ok());
  EXPECT_FLOAT_EQ(static_cast<float>(f->base_margin[0]), std::log(2.0f));
  EXPECT_EQ(f->link, Link::kExp);
  // 3.1: a vector string.
  f = Load(Model({Stump()}, "reg:squarederror", "[1.5E0]"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->base_margin[0], 1.5);
  EXPECT_FALSE(Load(Model({Stump()}, "binary:logistic", "1.5E0")).ok());  // not a probability
  EXPECT_FALSE(Load(Model({Stump()}, "reg:squarederror", "[1,2]")).ok());
  EXPECT_FALSE(Load(Model({Stump()}, "reg:squarederror", "abc")).ok());
}

TEST(XgboostImportTest, MulticlassGroupsAndVectorBaseScore) {
  auto f = Load(Model({Stump(), Stump(0.0), Stump(1.0)}, "multi:softprob", "[1E-1,2E-1,3E-1]", 3));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->n_outputs, 3);
  EXPECT_EQ(f->leaf_width, 1);
  EXPECT_EQ(f->trees_per_iteration, 3);
  EXPECT_EQ(f->trees[2].output, 2);
  EXPECT_EQ(f->base_margin, (std::vector<double>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(f->class_labels.size(), 3u);
  // num_class disagreeing with the objective is an error.
  EXPECT_FALSE(Load(Model({Stump()}, "multi:softprob", "5E-1", 0)).ok());
}

TEST(XgboostImportTest, HingeIsAStep) {
  auto f = Load(Model({Stump()}, "binary:hinge", "0"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Predict(*f, {0, 0}, OutputKind::kPrediction), 0.0);  // margin -1
  EXPECT_EQ(Predict(*f, {1, 0}, OutputKind::kPrediction), 1.0);  // margin +1
}

TEST(XgboostImportTest, CategoricalSplitsFollowXgboost) {
  json t = Stump();
  t["split_type"] = {1, 0, 0};
  t["split_conditions"] = {nullptr, -1.0, 1.0};  // XGBoost writes NaN here
  t["categories"] = {5, 1, 3};
  t["categories_nodes"] = {0};
  t["categories_segments"] = {0};
  t["categories_sizes"] = {3};
  std::string text = Model({t}).dump();
  // Write the NaN as XGBoost does: a bare token.
  size_t at = text.find("null");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 4, "NaN");
  auto f = LoadXgboostJson(text);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->categories, (std::vector<int32_t>{1, 3, 5}));
  // Listed categories go right (+1); values measured with xgboost 1.7.4:
  // truncation toward zero, negatives and >= 2^24 in no list, NaN default.
  struct Case {
    float v;
    double want;
  } cases[] = {{1, 1.5},      {3, 1.5},        {5, 1.5},     {0, -0.5},        {2, -0.5},
               {1.5f, 1.5},   {3.99999f, 1.5}, {2.5f, -0.5}, {-0.5f, -0.5},    {-1, -0.5},
               {-0.0f, -0.5}, {NAN, -0.5},     {6, -0.5},    {16777216, -0.5}, {1e9f, -0.5}};
  for (const Case& c : cases) EXPECT_EQ(Predict(*f, {c.v, 0}), c.want) << c.v;
}

TEST(XgboostImportTest, PrunedNodesAreDroppedAndChildrenRenumbered) {
  // Node 1 was pruned (unreachable); the root's children are 2 and 3.
  json t = Stump();
  t["tree_param"]["num_nodes"] = "4";
  t["left_children"] = {2, -1, -1, -1};
  t["right_children"] = {3, -1, -1, -1};
  t["parents"] = {2147483647, 0, 0, 0};
  t["split_indices"] = {1, 0, 0, 0};
  t["split_conditions"] = {0.0, 9.0, -2.0, 2.0};
  t["default_left"] = {0, 0, 0, 0};
  t["split_type"] = {0, 0, 0, 0};
  auto f = Load(Model({t}));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->trees[0].nodes.size(), 3u);
  EXPECT_EQ(Predict(*f, {0, -1}), 0.5 - 2.0);
  EXPECT_EQ(Predict(*f, {0, 1}), 0.5 + 2.0);
  EXPECT_EQ(Predict(*f, {0, NAN}), 0.5 + 2.0);  // default right
}

TEST(XgboostImportTest, RejectsMalformedModels) {
  auto expect_bad = [](json j, const char* what) {
    auto r = Load(j);
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << what << ": " << r.status().ToString();
  };
  json t = Stump();
  t["left_children"] = {1, -1};
  expect_bad(Model({t}), "short array");
  t = Stump();
  t["left_children"] = {0, -1, -1};
  expect_bad(Model({t}), "cycle");
  t = Stump();
  t["right_children"] = {7, -1, -1};
  expect_bad(Model({t}), "child out of range");
  t = Stump();
  t["split_indices"] = {5, 0, 0};
  expect_bad(Model({t}), "feature out of range");
  t = Stump();
  t["split_conditions"] = {"x", 0, 0};
  expect_bad(Model({t}), "string threshold");
  json m = Model({Stump()});
  m["learner"]["gradient_booster"]["model"]["tree_info"] = {3};
  expect_bad(m, "tree group out of range");
  m = Model({Stump()});
  m["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "2";
  expect_bad(m, "num_trees mismatch");
  m = Model({Stump()});
  m["learner"].erase("learner_model_param");
  expect_bad(m, "missing learner_model_param");
  EXPECT_FALSE(LoadXgboostJson("{\"learner\": ").ok());
  EXPECT_FALSE(LoadXgboostJson(std::string(100000, '[')).ok());
}

// Errors say where: the element of which array of which tree, or the line
// and column of a syntax error.
TEST(XgboostImportTest, ErrorsNameThePlace) {
  auto message = [](const Result<Forest>& r) {
    return r.ok() ? std::string("loaded") : r.status().message();
  };
  json t = Stump();
  t["split_conditions"] = {0.5, "x", 1.0};
  EXPECT_NE(message(Load(Model({Stump(), t}))).find("tree 1.split_conditions[1] is not a number"),
            std::string::npos)
      << message(Load(Model({Stump(), t})));
  t = Stump();
  t["left_children"] = {1, -1.5, -1};
  EXPECT_NE(message(Load(Model({t}))).find("tree 0.left_children[1] is not an integer"), std::string::npos)
      << message(Load(Model({t})));
  const std::string text = Model({Stump()}).dump(1);  // one value a line
  std::string broken = text;
  broken.insert(broken.find("\"tree_info\""), "]");
  const size_t line = 1 + std::count(broken.begin(), broken.begin() + broken.find("]\"tree_info\""), '\n');
  const std::string m = message(LoadXgboostJson(broken));
  EXPECT_NE(m.find("not valid JSON"), std::string::npos) << m;
  EXPECT_NE(m.find(fmt::format("at line {}, column", line)), std::string::npos) << m;
  EXPECT_NE(message(LoadXgboostJson(text.substr(0, text.size() / 2))).find("unexpected end of input"),
            std::string::npos);
  EXPECT_NE(message(LoadXgboostJson(std::string(100, '['))).find("nesting deeper than 64"),
            std::string::npos);
}

// XGBoost writes NaN and infinities as bare tokens (not JSON); they load,
// outside strings only.
TEST(XgboostImportTest, BareNonFiniteTokens) {
  json t = Stump();
  t["split_conditions"] = {"Infinity", -1.0, 1.0};
  std::string text = Model({t}).dump();
  const std::string quoted = "\"Infinity\"";
  text.replace(text.find(quoted), quoted.size(), "Infinity");  // bare, as XGBoost writes it
  auto f = LoadXgboostJson(text);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Predict(*f, {1e30f, 0}), 0.5 - 1.0);  // x < inf: left
  text.replace(text.find("Infinity"), 8, "NaN");
  EXPECT_NE(LoadXgboostJson(text).status().message().find("split condition is NaN"), std::string::npos);
  // A feature name that says NaN is a name.
  json m = Model({Stump()});
  m["learner"]["feature_names"] = {"NaN", "Infinity"};
  auto g = LoadXgboostJson(m.dump());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->feature_names, (std::vector<std::string>{"NaN", "Infinity"}));
}

// A model file is parsed where it is mapped when the rest of its last page
// (zeros) covers simdjson's 64 bytes of padding, else from a padded copy:
// files ending at every offset around that bound, with and without bare
// NaN tokens (parsed from the quoted copy), load as the same text from
// memory does, and a broken file fails with the same message.
TEST(XgboostImportTest, MappedFilesLoadAsTheirBytes) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("fb_xgb_mapped_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/model.json";
  json nan_model = Model({Stump(0.25), Stump(0.75)});
  nan_model["learner"]["attributes"]["note"] = 1;
  std::string with_nan = nan_model.dump();
  with_nan.replace(with_nan.find("\"note\":1"), 8, "\"note\":NaN");
  const long page = ::sysconf(_SC_PAGESIZE);
  for (const std::string& base : {Model({Stump(0.25), Stump(0.75)}).dump(), with_nan}) {
    for (long end : {page * 2 - 65, page * 2 - 64, page * 2 - 63, page * 2 - 1, page * 2, page * 2 + 1}) {
      std::string text = base;
      text.resize(static_cast<size_t>(end), ' ');  // trailing white space
      { std::ofstream(path, std::ios::binary) << text; }
      auto from_file = LoadModelFile(path);
      auto from_memory = LoadXgboostJson(text);
      ASSERT_TRUE(from_file.ok()) << end << ": " << from_file.status().ToString();
      ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
      ASSERT_EQ(from_file->trees.size(), 2u);
      for (float x : {0.1f, 0.25f, 0.5f, 0.75f, 0.9f}) {
        EXPECT_EQ(Predict(*from_file, {x, 0}), Predict(*from_memory, {x, 0})) << end << " " << x;
      }
      // Cut short: the file fails as the text does.
      text.resize(base.size() - 1);
      text.resize(static_cast<size_t>(end), ' ');
      { std::ofstream(path, std::ios::binary) << text; }
      auto bad_file = LoadModelFile(path);
      auto bad_memory = LoadXgboostJson(text);
      ASSERT_FALSE(bad_file.ok());
      ASSERT_FALSE(bad_memory.ok());
      EXPECT_EQ(bad_file.status().message(), bad_memory.status().message()) << end;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(XgboostImportTest, UnsupportedFeaturesSaySo) {
  auto r = Load(Model({Stump()}, "survival:cox"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("survival:cox"), std::string::npos);
  json m = Model({Stump()});
  m["learner"]["gradient_booster"]["name"] = "gblinear";
  EXPECT_EQ(Load(m).status().code(), StatusCode::kUnsupported);
  json t = Stump();
  t["tree_param"]["size_leaf_vector"] = "3";
  r = Load(Model({t}));
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("vector leaves"), std::string::npos);
}

TEST(XgboostImportTest, BestIterationAndWrapper) {
  json m = Model({Stump(), Stump(), Stump()});
  m["learner"]["attributes"] = {{"best_iteration", "1"}};
  auto f = Load(m);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->best_iteration, 1);
  EXPECT_FALSE(f->predict_uses_best_iteration);  // Booster semantics: all trees
  m["learner"]["attributes"]["scikit_learn"] = R"({"_estimator_type": "regressor"})";
  f = Load(m);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->predict_uses_best_iteration);
  EXPECT_EQ(f->info.wrappers, "scikit-learn wrapper (regressor)");
  m["learner"]["attributes"]["best_iteration"] = "7";  // beyond the model: ignored
  f = Load(m);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->best_iteration, -1);
  EXPECT_FALSE(f->predict_uses_best_iteration);
}

TEST(XgboostImportTest, IterationIndptr) {
  json m = Model({Stump(), Stump(), Stump(), Stump()});
  m["learner"]["gradient_booster"]["model"]["iteration_indptr"] = {0, 2, 4};
  auto f = Load(m);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->trees_per_iteration, 2);
  m["learner"]["gradient_booster"]["model"]["iteration_indptr"] = {0, 1, 4};  // uneven
  f = Load(m);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->trees_per_iteration, 0);
  m["learner"]["gradient_booster"]["model"]["iteration_indptr"] = {0, 3, 2};
  EXPECT_FALSE(Load(m).ok());
}

// The bytes of a literal, NULs included.
template <size_t N>
std::string B(const char (&s)[N]) {
  return std::string(s, N - 1);
}

TEST(XgboostImportTest, UbjsonMatchesJsonAndIsBounded) {
  json m = Model({Stump(), Stump(0.25)}, "binary:logistic");
  std::vector<uint8_t> ubj = json::to_ubjson(m, /*use_size=*/true, /*use_type=*/true);
  auto a = LoadXgboostUbjson(std::string_view(reinterpret_cast<const char*>(ubj.data()), ubj.size()));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = Load(m);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->trees[1].nodes[0].threshold, b->trees[1].nodes[0].threshold);
  EXPECT_EQ(a->info.source_format, "xgboost-ubjson");
  // A typed array claiming 2^60 elements in a few bytes is refused at once.
  std::string huge = "[$d#L";
  huge += std::string("\x10\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_FALSE(ParseUbjson(huge).ok());
  EXPECT_FALSE(ParseUbjson(std::string("[$Z#L\x00\x00\x00\x00\x00\x00\x00\x10", 13)).ok());
  EXPECT_FALSE(ParseUbjson(std::string(1000, '[')).ok());
  EXPECT_FALSE(ParseUbjson("{U\x05"
                           "ab")
                   .ok());
  auto v =
      ParseUbjson(std::string("[i\x01U\xff"
                              "d\x3f\x80\x00\x00SU\x02hi]",
                              16));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->dump(), R"([1,255,1.0,"hi"])");
  // Counted, uncounted and typed containers with no-ops; a repeated key keeps its last value.
  struct Case {
    std::string ubj, want;
  } good[] = {
      {B("[#U\x02i\x01i\x02"), "[1,2]"},
      {B("[Ni\x01NNi\x02N]"), "[1,2]"},
      {B("[$I#U\x02\x01\x00\xff\xff"), "[256,-1]"},
      {B("[[][#U\x00]"), "[[],[]]"},
      {B("{U\x01"
         "ai\x01U\x01"
         "bT}"),
       R"({"a":1,"b":true})"},
      {B("{U\x01"
         "ai\x01U\x01"
         "ai\x02}"),
       R"({"a":2})"},
      {B("{#U\x01U\x01"
         "aZ"),
       R"({"a":null})"},
  };
  for (const Case& c : good) {
    auto r = ParseUbjson(c.ubj);
    ASSERT_TRUE(r.ok()) << c.want << ": " << r.status().ToString();
    EXPECT_EQ(r->dump(), c.want);
  }
  // The errors say what and where.
  struct Bad {
    std::string ubj, message;
  } bad[] = {
      {B("{U\x05"
         "ab"),
       "UBJSON: bad length 5 at byte 3"},
      {B("[$D#U\x03") + std::string(16, '\0'), "UBJSON: unexpected end of data at byte 22"},
      {B("[i\x01"), "UBJSON: unterminated container at byte 3"},
      {B("i\x01]"), "UBJSON: trailing bytes after the value at byte 2"},
      {B("[$i]"), "UBJSON: typed container without a count at byte 3"},
      {B("[#Si\x01"), "UBJSON: expected an integer type, found marker 0x53 at byte 3"},
      {B("[x]"), "UBJSON: unknown marker 0x78 at byte 2"},
  };
  for (const Bad& c : bad) {
    auto r = ParseUbjson(c.ubj);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidData);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(XgboostImportTest, FormatDetection) {
  EXPECT_EQ(DetectModelFormat("{\"learner\":{}}"), ModelFormat::kXgboostJson);
  EXPECT_EQ(DetectModelFormat("  \n{\n"), ModelFormat::kXgboostJson);
  EXPECT_EQ(DetectModelFormat("{L\x00\x00"), ModelFormat::kXgboostUbjson);
  EXPECT_EQ(DetectModelFormat("binf\x00\x00\x00?"), ModelFormat::kXgboostLegacyBinary);
  // Pre-1.0 legacy files have no "binf": a 136-byte parameter block, then
  // the objective name with a uint64 length.
  std::string legacy(136, '\0');
  legacy += std::string("\x0f\x00\x00\x00\x00\x00\x00\x00", 8) + "binary:logistic";
  EXPECT_EQ(DetectModelFormat(legacy), ModelFormat::kXgboostLegacyBinary);
  // Read by the legacy binary reader (xgboost_legacy.h): this one is cut
  // short, which is invalid data naming the reader and the byte offset.
  auto r = LoadModelBytes(legacy + std::string(100, '\0'), "old.model");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(r.status().message().find("XGBoost legacy binary model"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(DetectModelFormat(std::string(200, '\0')), ModelFormat::kUnknown);
}

}  // namespace
}  // namespace fb

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/forest_builder.h"

namespace fb {
namespace {

// Replays fuzz/corpus/xgboost (first byte as the fuzz target: bit 0 UBJSON,
// else bit 1 a pickled booster's buffer, else JSON): nothing may crash;
// seeds named *_json / *_ubj / *_buffer must load.
TEST(XgboostImportTest, FuzzCorpusRegression) {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/xgboost"))
    if (e.is_regular_file()) files.push_back(e.path().string());
  ASSERT_FALSE(files.empty());
  std::sort(files.begin(), files.end());
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string b = ss.str();
    if (b.empty()) continue;
    std::string_view body = std::string_view(b).substr(1);
    auto r = (b[0] & 1)   ? LoadXgboostUbjson(body)
             : (b[0] & 2) ? LoadXgboostBoosterBuffer(body)
                          : LoadXgboostJson(body);
    if (path.ends_with("_json") || path.ends_with("_ubj") || path.ends_with("_buffer")) {
      EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
    }
    if (r.ok()) {
      EXPECT_TRUE(BuildForest(*r).ok()) << path;
    }
  }
}

}  // namespace
}  // namespace fb

#include <random>
#include <tuple>

#include "model/import/native_format.h"

namespace fb {
namespace {

// A forest as bytes (every field the native format keeps), to compare loads.
std::string Bytes(const Forest& f) {
  auto built = BuildForest(Forest(f));
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (!built.ok()) return "";
  auto s = SerializeNativeModel(*built);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : "";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every fixture (XGBoost 1.7, 2.x and 3.x files, JSON and UBJSON) is taken
// by the one-pass reader (lazy_doc.h), which builds the same forest as the
// full parse.
TEST(XgboostImportTest, LazyReaderTakesEveryFixtureAndAgrees) {
  int n = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(std::string(FB_SOURCE_DIR) + "/tests/xgboost")) {
    const std::string path = e.path().string();
    const bool ubjson = path.ends_with(".ubj");
    if (!e.is_regular_file() || !(ubjson || path.ends_with(".json")) || path.ends_with(".meta.json") ||
        path.find("fixtures") == std::string::npos)
      continue;
    const std::string bytes = ReadAll(path);
    std::optional<Forest> lazy = internal::LoadXgboostLazily(bytes, ubjson);
    ASSERT_TRUE(lazy.has_value()) << path;
    auto full = ubjson ? internal::LoadXgboostUbjsonInFull(bytes) : internal::LoadXgboostJsonInFull(bytes);
    ASSERT_TRUE(full.ok()) << path << ": " << full.status().ToString();
    EXPECT_EQ(Bytes(*lazy), Bytes(*full)) << path;
    EXPECT_EQ(lazy->info.source_format, full->info.source_format);
    ++n;
  }
  EXPECT_GE(n, 60);
}

// Damaged models: whatever the one-pass reader takes, the full parse takes
// too, with the same forest; the public loads answer as the full parse
// (the same forest, or the same error).
TEST(XgboostImportTest, LazyReaderTakesNothingTheFullParseRefuses) {
  json t = Stump();
  t["split_type"] = {1, 0, 0};
  t["split_conditions"] = {nullptr, -1.0, 1.0};
  t["categories"] = {5, 1, 3};
  t["categories_nodes"] = {0};
  t["categories_segments"] = {0};
  t["categories_sizes"] = {3};
  t["base_weights"] = {-1.5e-3, 2.25E+2, 0.0};
  t["loss_changes"] = {1e1, -0.0, 3};
  json m = Model({Stump(0.25), t, Stump(0.75)});
  m["learner"]["attributes"] = {{"best_iteration", "1"},
                                {"scikit_learn", R"({"_estimator_type": "regressor", "\u00e9": "\"q\""})"}};
  m["learner"]["feature_names"] = {"caf\u00e9", "tab\tbed"};
  std::string text = m.dump(1);
  text.replace(text.find("null"), 4, "NaN");
  // UBJSON has NaN (text has the bare token, above).
  m["learner"]["gradient_booster"]["model"]["trees"][1]["split_conditions"][0] =
      std::numeric_limits<double>::quiet_NaN();
  std::vector<uint8_t> u = json::to_ubjson(m, /*use_size=*/true, /*use_type=*/true);
  const std::string ubj(u.begin(), u.end());
  std::vector<uint8_t> u2 = json::to_ubjson(m, /*use_size=*/false, /*use_type=*/false);
  const std::string ubj_plain(u2.begin(), u2.end());
  ASSERT_TRUE(internal::LoadXgboostLazily(text, false).has_value());
  ASSERT_TRUE(internal::LoadXgboostLazily(ubj, true).has_value());
  ASSERT_TRUE(internal::LoadXgboostLazily(ubj_plain, true).has_value());
  // Booster buffers' memory snapshots (pickled estimators), JSON and UBJSON.
  const json snapshot = {{"Config", {{"learner", {{"generic_param", {{"nthread", "0"}}}}}}}, {"Model", m}};
  std::string snapshot_text = snapshot.dump();
  snapshot_text.replace(snapshot_text.find("null"), 4, "NaN");
  std::vector<uint8_t> u3 = json::to_ubjson(snapshot, /*use_size=*/true, /*use_type=*/true);
  const std::string snapshot_ubj(u3.begin(), u3.end());
  ASSERT_TRUE(internal::LoadXgboostLazily(snapshot_text, false, true).has_value());
  ASSERT_TRUE(internal::LoadXgboostLazily(snapshot_ubj, true, true).has_value());
  ASSERT_TRUE(LoadXgboostBoosterBuffer(snapshot_ubj).ok());
  EXPECT_EQ(Bytes(*LoadXgboostBoosterBuffer(snapshot_ubj)), Bytes(*internal::LoadXgboostUbjsonInFull(ubj)));

  const std::string alphabet =
      std::string("{}[]:,\"\\ \n0123456789-+.eENaIfinty") + '\0' + "\x80\xc3\xff" + "$#ZTFiUIlLdDSCH";
  std::mt19937 rng(17);
  int taken = 0, total = 0;
  for (const auto& [base, ubjson, buffer] :
       std::vector<std::tuple<std::string, bool, bool>>{{text, false, false},
                                                        {ubj, true, false},
                                                        {ubj_plain, true, false},
                                                        {snapshot_text, false, true},
                                                        {snapshot_ubj, true, true}}) {
    for (int k = 0; k < 3000; ++k) {
      std::string b = base;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int j = 0; j < edits && !b.empty(); ++j) {
        const size_t at = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: b.erase(at, 1 + rng() % 4); break;
          case 2: b.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
          default: b[at] = static_cast<char>(rng()); break;
        }
      }
      ++total;
      // A buffer is read lazily when it starts as a snapshot, as text when its second byte says so.
      const bool snapshot = buffer && b.size() >= 2 && b[0] == '{';
      const bool as_ubjson = snapshot ? !(b[1] == '"' || b[1] == ' ' || b[1] == '\n') : ubjson;
      std::optional<Forest> lazy;
      if (!buffer || snapshot) lazy = internal::LoadXgboostLazily(b, as_ubjson, buffer);
      auto full = buffer   ? internal::LoadXgboostBoosterBufferInFull(b)
                  : ubjson ? internal::LoadXgboostUbjsonInFull(b)
                           : internal::LoadXgboostJsonInFull(b);
      auto pub = buffer ? LoadXgboostBoosterBuffer(b) : ubjson ? LoadXgboostUbjson(b) : LoadXgboostJson(b);
      ASSERT_EQ(pub.ok(), full.ok()) << k;
      if (!full.ok()) {
        ASSERT_FALSE(lazy.has_value()) << "taken but refused in full: " << full.status().ToString() << "\n"
                                       << b;
        EXPECT_EQ(pub.status().ToString(), full.status().ToString());
        continue;
      }
      EXPECT_EQ(Bytes(*pub), Bytes(*full)) << b;
      if (lazy) {
        ++taken;
        ASSERT_EQ(Bytes(*lazy), Bytes(*full)) << b;
      }
    }
  }
  EXPECT_GT(taken, total / 20);  // the mutants it takes are not only the few edits that change nothing
}

}  // namespace
}  // namespace fb

#include "model/import/lazy_doc.h"

namespace fb {
namespace {

// Arrays of numbers of every length around the reader's 16-byte steps and
// its 255-step sums, with white space and non-finite tokens: counted,
// checked and converted as a full parse does.
TEST(LazyDocTest, ArraysOfNumbersAtEveryLength) {
  for (int n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 500, 1000, 1021, 1022, 1023, 1024, 1025, 2000}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::string text = "{\"pad\":\"" + std::string(static_cast<size_t>(variant * 5), 'x') + "\",\"a\":[";
      std::vector<double> want;
      for (int i = 0; i < n; ++i) {
        if (i > 0) text += variant == 1 ? " ,\n " : ",";
        const double v = (i % 7 == 3) ? -i * 0.125 : i * 3;
        want.push_back(v);
        text += (i % 7 == 3) ? fmt::format("{}E0", v) : fmt::format("{}", static_cast<int64_t>(v));
      }
      text += variant == 2 ? "\t]}" : "]}";
      LazyDoc doc;
      ASSERT_TRUE(doc.ReadJson(text)) << n << " " << variant;
      const LazyDoc::Node* a = doc.Find(doc.root(), "a");
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->kind, LazyDoc::Kind::kNumbers);
      EXPECT_EQ(a->count, static_cast<uint32_t>(n));
      std::vector<double> got;
      EXPECT_TRUE(doc.ForEachElement(*a, [&](const LazyDoc::Node& e) {
        got.push_back(e.kind == LazyDoc::Kind::kInt ? static_cast<double>(e.i) : e.d);
        return true;
      }));
      EXPECT_EQ(got, want) << n << " " << variant;
      EXPECT_TRUE(doc.CheckUnread());
      // Not read: checked at the end; one bad element anywhere is found.
      std::string bad = text;
      bad.insert(bad.rfind(']'), ",1.");
      LazyDoc doc2;
      ASSERT_TRUE(doc2.ReadJson(bad));
      EXPECT_FALSE(doc2.CheckUnread()) << n;
      bad = text;
      bad.insert(bad.find('[') + 1, "01,");
      ASSERT_TRUE(doc2.ReadJson(bad));
      EXPECT_FALSE(doc2.CheckUnread()) << n;
      // A document read after another is checked as its own (arrays read in
      // the first one, at the same place, count for nothing).
      ASSERT_TRUE(doc.ReadJson(bad));
      EXPECT_FALSE(doc.CheckUnread()) << n;
    }
  }
  // Tokens: what is taken, and what is left to the full parse.
  struct Case {
    const char* array;
    bool taken;
  } cases[] = {{"[NaN, Infinity,-Infinity]", true},
               {"[-0,0.5e-3,1E+2,123456789012345678]", true},
               {"[1234567890123456789]", false},
               {"[1.0e281]", false},
               {"[1e0001]", false},
               {"[-]", false},
               {"[1,]", false},
               {"[,1]", false},
               {"[1 2]", false},
               {"[NaNa]", false},
               {"[-NaN]", false},
               {"[1,\"a\"]", false},
               {"[1,[2]]", false},
               {"[.5]", false},
               {"[+1]", false},
               {"[0x1]", false},
               {"[1e]", false},
               {"[1.e5]", false}};
  for (const Case& c : cases) {
    const std::string text = std::string("{\"a\":") + c.array + "}";
    LazyDoc doc;
    const bool read = doc.ReadJson(text) && doc.CheckUnread();
    EXPECT_EQ(read, c.taken) << c.array;
  }
}

// The 64-byte check of unread arrays against the element-by-element one:
// never sure where the scalar check refuses (arrays as XGBoost writes them,
// mutated byte by byte, and random bytes of the number alphabet, at every
// place of a 64-byte block, with right and wrong counts), and sure of the
// spellings XGBoost writes.
TEST(LazyDocTest, BlockCheckOfNumbersIsSureOnlyOfWhatTheScalarCheckTakes) {
  std::mt19937 rng(23);
  auto number = [&](std::string* out) {
    switch (rng() % 8) {
      case 0: *out += std::to_string(static_cast<int>(rng() % 100)); break;
      case 1: *out += "2147483647"; break;
      case 2:
        *out += fmt::format("{:.7E}", std::ldexp(static_cast<double>(rng() % 100000) - 50000, -12));
        break;
      case 3:
        *out += fmt::format("{:.10f}", std::ldexp(static_cast<double>(rng() % 100000) - 50000, -20));
        break;
      case 4: *out += fmt::format("{:E}", static_cast<double>(rng() % 1000) * 1e-3f); break;
      case 5: *out += "-0"; break;
      case 6: *out += "1E0"; break;
      default: *out += fmt::format("{:.9g}", static_cast<float>(rng() % 1000) / 7.0f); break;
    }
  };
  // The count the reader gives an array: its commas before the first ']', plus one.
  auto counted = [](const std::string& text, size_t at) {
    const size_t close = text.find(']', at);
    return static_cast<uint32_t>(std::count(text.begin() + at, text.begin() + close, ',') + 1);
  };
  const std::string alphabet = "0123456789.eE+-, \n\t]xN";
  int sure = 0, valid = 0, tried = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string text(rng() % 64, '{');  // the array at every place of a block
    const size_t at = text.size();
    const int n = 1 + static_cast<int>(rng() % (k % 3 == 0 ? 4 : 120));
    if (k % 5 == 4) {
      for (int j = 0; j < 8 + n; ++j) text += alphabet[rng() % alphabet.size()];
    } else {
      for (int j = 0; j < n; ++j) {
        if (j > 0) text += (k % 7 == 1) ? " ,\n" : ",";
        number(&text);
      }
      if (k % 2 == 1) {  // mutated
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int j = 0; j < edits && text.size() > at; ++j) {
          const size_t where = at + rng() % (text.size() - at);
          const char c = alphabet[rng() % alphabet.size()];
          switch (rng() % 3) {
            case 0: text[where] = c; break;
            case 1: text.insert(where, 1, c); break;
            default: text.erase(where, 1); break;
          }
        }
      }
    }
    text += "]}" + std::string(rng() % 80, ' ');
    if (text.size() <= at) continue;
    const uint32_t count = counted(text, at);
    for (uint32_t c : {count, count + 1, count - 1}) {
      const char* p = text.data() + at;
      const char* end = text.data() + text.size();
      const bool scalar = internal::NumbersValidScalar(p, end, c);
      const bool block = internal::NumbersSurelyValid(p, end, c);
      ++tried;
      if (block) {
        ASSERT_TRUE(scalar) << "sure of what the scalar check refuses: [" << text.substr(at) << " " << c;
      }
      valid += scalar;
      sure += block;
      if (k % 2 == 0 && k % 5 != 4 && c == count) {
        ASSERT_TRUE(scalar) << text.substr(at);
#if defined(__SSE2__)
        EXPECT_TRUE(block) << "not sure of an array as XGBoost writes it: [" << text.substr(at);
#endif
      }
    }
  }
  // (How often it is sure of the mutants is not a bar: each unmutated array
  // above is checked on its own.)
  EXPECT_GT(valid, tried / 5);
  EXPECT_GT(sure, 0);
  // Each rule, at the start, the middle and across a block's end.
  for (const char* bad : {"1.",
                          ".5",
                          "1..2",
                          "1.2.3",
                          "1e2.3",
                          "1e2e3",
                          "1e",
                          "1e+",
                          "+1",
                          "1-2",
                          "--1",
                          "01",
                          "-01",
                          "1 2",
                          "1,,2",
                          ",1",
                          "1,",
                          "1e123",
                          "1234567890123456789",
                          "1.23456789012345678",
                          "0x1",
                          "1.e5",
                          "-",
                          "1e-+2",
                          "NaN"}) {
    for (size_t pad : {0, 30, 60, 61, 62, 63}) {
      const std::string text = "[" + std::string(pad, ' ') + "7," + bad + ",8]}";
      const char* p = text.data() + 1;
      EXPECT_FALSE(internal::NumbersSurelyValid(p, text.data() + text.size(), counted(text, 1)))
          << bad << " " << pad;
    }
  }
}

}  // namespace
}  // namespace fb
