// The compiled layout stored in a .fbm (format 1.5, infer/compiled_io.h):
// read back from every fixture model, it predicts bit for bit as a fresh
// compile does; files without it (1.4 and older) or with another compiler's
// fingerprint compile as before; a corrupted layout is refused, naming the
// file and section, and never read out of bounds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "common/crc32.h"
#include "infer/compiled_io.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/forest_builder.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "model/import/native_test_fixtures.h"
#include "model/iterations.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

using native_test::FindSection;
using native_test::FixtureModels;
using native_test::Rows;

// Sums of both predictors on the same rows, compared bit for bit.
void ExpectSameSums(const Predictor& a, const Predictor& b, const Forest& f, const std::string& what) {
  for (size_t n : {size_t{3}, size_t{300}}) {
    const std::vector<float> x = Rows(f, n, static_cast<uint32_t>(n));
    std::vector<double> ra(n * f.n_outputs), rb(n * f.n_outputs);
    a.PredictRaw(x.data(), n, ra.data());
    b.PredictRaw(x.data(), n, rb.data());
    ASSERT_EQ(std::memcmp(ra.data(), rb.data(), ra.size() * sizeof(double)), 0)
        << what << ", " << n << " rows";
  }
}

template <typename T>
bool SameArray(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

// `bytes` with its CRC recomputed (after an edit).
void FixCrc(std::string* bytes) {
  const uint32_t crc = Crc32(std::string_view(*bytes).substr(12));
  std::memcpy(bytes->data() + 8, &crc, 4);
}

fs::path TempFile(const std::string& name) {
  return fs::temp_directory_path() / ("fb-native-layout-" + std::to_string(::getpid()) + "-" + name);
}

Result<Forest> LoadFromFile(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
  return LoadModelFile(p.string());
}

TEST(NativeLayout, EveryFixtureReadsBackBitIdentical) {
  size_t tested = 0, complete = 0, bitvector = 0, deep = 0, generic = 0;
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->preprocessing) continue;  // hostile fixtures; Pipelines have no .fbm form
    auto forest = std::make_shared<const Forest>(std::move(loaded).value());
    const CompiledForest fresh = CompileForest(forest);
    auto bytes = SerializeNativeModel(*forest, EncodeLayoutSections(fresh));
    ASSERT_TRUE(bytes.ok()) << path << ": " << bytes.status().ToString();
    // Read in place from the file's mapping, and copied from bytes.
    const fs::path tmp = TempFile("fixture.fbm");
    for (int mapped = 0; mapped < 2; ++mapped) {
      auto back = mapped ? LoadFromFile(tmp, *bytes) : LoadNativeModel(*bytes);
      ASSERT_TRUE(back.ok()) << path << ": " << back.status().ToString();
      ASSERT_NE(back->stored_layout, nullptr) << path;
      auto shared = std::make_shared<const Forest>(std::move(back).value());
      auto stored = ReadStoredLayout(shared);
      ASSERT_TRUE(stored.ok()) << path << ": " << stored.status().ToString();
      ASSERT_TRUE(stored->has_value()) << path;
      const CompiledForest& s = **stored;
      ASSERT_EQ(s.runs.size(), fresh.runs.size()) << path;
      EXPECT_TRUE(SameArray(s.complete_groups, fresh.complete_groups) &&
                  SameArray(s.complete_preds, fresh.complete_preds) &&
                  SameArray(s.complete_trees, fresh.complete_trees) &&
                  SameArray(s.complete_slots, fresh.complete_slots) &&
                  SameArray(s.complete_ranks, fresh.complete_ranks) &&
                  SameArray(s.complete_values, fresh.complete_values) &&
                  SameArray(s.bv_trees, fresh.bv_trees) && SameArray(s.bv_nodes, fresh.bv_nodes) &&
                  SameArray(s.bv_values, fresh.bv_values) && SameArray(s.deep_trees, fresh.deep_trees) &&
                  SameArray(s.deep_nodes, fresh.deep_nodes) && SameArray(s.deep_values, fresh.deep_values) &&
                  SameArray(s.generic_trees, fresh.generic_trees))
          << path;
      auto from_file = MakeModelPredictor(shared);
      ASSERT_TRUE(from_file.ok()) << path;
      auto compiled = MakeCompiledPredictor(forest, ChosenSimdTarget());
      ExpectSameSums(**from_file, *compiled, *forest, path.string());
    }
    fs::remove(tmp);
    for (const TreeRun& r : fresh.runs) {
      complete += r.layout == TreeLayout::kComplete;
      bitvector += r.layout == TreeLayout::kBitvector;
      deep += r.layout == TreeLayout::kDeep;
      generic += r.layout == TreeLayout::kGeneric;
    }
    ++tested;
  }
  // XGBoost, scikit-learn and LightGBM fixtures, every layout among them.
  EXPECT_GT(tested, 100u);
  EXPECT_GT(complete, 0u);
  EXPECT_GT(bitvector, 0u);
  EXPECT_GT(deep, 0u);
  EXPECT_GT(generic, 0u);
}

// A chain of `depth` internal nodes (node 2i, its left child a leaf at
// 2i + 1): depth + 1 leaves.
Tree Chain(int depth, const Forest& f) {
  Tree t;
  for (int i = 0; i < depth; ++i) {
    t.nodes.push_back(
        Node{2 * i + 1, 2 * i + 2, i % f.n_features, 0.1f * static_cast<float>(i % 7), i % 2 == 0});
    t.nodes.push_back(Node{});
  }
  t.nodes.push_back(Node{});
  for (size_t k = 0; k < t.nodes.size() * static_cast<size_t>(f.leaf_width); ++k)
    t.values.push_back(-0.5 * static_cast<double>(k));
  return t;
}

// A scikit-learn fixture forest (complete trees) with a bitvector tree and a
// deep tree added: every numeric layout in one model.
std::shared_ptr<const Forest> MixedForest() {
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->preprocessing || loaded->aggregate != Aggregate::kMean ||
        !loaded->float64_features.empty())
      continue;
    Forest m = std::move(loaded).value();
    m.trees.push_back(Chain(8, m));   // depth 8, 9 leaves: bitvector
    m.trees.push_back(Chain(40, m));  // depth 40, 41 leaves: deep
    m.trees.push_back(m.trees.front());
    auto built = BuildForest(std::move(m));
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    if (!built.ok()) return nullptr;
    auto mixed = std::make_shared<const Forest>(std::move(built).value());
    bool has[4] = {};
    for (const TreeRun& r : CompileForest(mixed).runs) has[static_cast<int>(r.layout)] = true;
    EXPECT_TRUE(has[0] && has[1] && has[2]) << path;
    return mixed;
  }
  return nullptr;
}

TEST(NativeLayout, FilesWithoutItOrWithAnotherFingerprintCompile) {
  auto forest = MixedForest();
  ASSERT_NE(forest, nullptr);
  // 1.4 and older files: no layout sections.
  auto plain = SerializeNativeModel(*forest);
  ASSERT_TRUE(plain.ok());
  auto back = LoadNativeModel(*plain);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->stored_layout, nullptr);
  auto shared = std::make_shared<const Forest>(std::move(back).value());
  auto stored = ReadStoredLayout(shared);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
  auto p = MakeModelPredictor(shared);
  ASSERT_TRUE(p.ok());
  ExpectSameSums(**p, *MakeBestPredictor(forest), *forest, "no layout");

  // Another compiler's fingerprint: ignored, even with garbage after it.
  auto bytes = SerializeNativeModel(*forest, EncodeLayoutSections(CompileForest(forest)));
  ASSERT_TRUE(bytes.ok());
  auto [off, size] = FindSection(*bytes, kFirstLayoutSection);
  ASSERT_GT(size, 8u);
  const uint32_t other = LayoutFingerprint() ^ 1;
  std::memcpy(bytes->data() + off, &other, 4);
  (*bytes)[off + 4] ^= 0x55;
  auto [doff, dsize] = FindSection(*bytes, kFirstLayoutSection + 11);  // deep nodes
  ASSERT_GT(dsize, 0u);
  std::memset(bytes->data() + doff, 0xFF, dsize);
  FixCrc(&*bytes);
  auto other_back = LoadNativeModel(*bytes);
  ASSERT_TRUE(other_back.ok());
  auto other_shared = std::make_shared<const Forest>(std::move(other_back).value());
  auto other_stored = ReadStoredLayout(other_shared);
  ASSERT_TRUE(other_stored.ok());
  EXPECT_FALSE(other_stored->has_value());
  auto q = MakeModelPredictor(other_shared);
  ASSERT_TRUE(q.ok());
  ExpectSameSums(**q, *MakeBestPredictor(forest), *forest, "other fingerprint");
}

TEST(NativeLayout, IterationRangeDropsIt) {
  // Slicing rounds changes the trees: the stored layout no longer applies.
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->trees_per_iteration <= 0 ||
        loaded->trees.size() < 2 * size_t(loaded->trees_per_iteration) || loaded->preprocessing)
      continue;
    auto forest = std::make_shared<const Forest>(std::move(loaded).value());
    auto bytes = SerializeNativeModel(*forest, EncodeLayoutSections(CompileForest(forest)));
    ASSERT_TRUE(bytes.ok());
    auto back = LoadNativeModel(*bytes);
    ASSERT_TRUE(back.ok());
    ASSERT_NE(back->stored_layout, nullptr);
    auto sliced = SelectIterationsFlag(std::move(back).value(), "0:1");
    ASSERT_TRUE(sliced.ok()) << path;
    EXPECT_EQ(sliced->stored_layout, nullptr) << path;
    return;
  }
  FAIL() << "no boosted fixture";
}

TEST(NativeLayout, CorruptedSectionsAreRefusedNamingFileAndSection) {
  auto forest = MixedForest();
  ASSERT_NE(forest, nullptr);
  auto good = SerializeNativeModel(*forest, EncodeLayoutSections(CompileForest(forest)));
  ASSERT_TRUE(good.ok());
  const fs::path tmp = TempFile("corrupt.fbm");
  struct Case {
    uint32_t section;  // offset from kFirstLayoutSection
    const char* name;
    size_t at;       // byte within the section
    uint32_t value;  // written there (4 bytes)
  };
  const Case cases[] = {
      {0, "layout", 16, 7},                  // n_features
      {0, "layout", 4, 0},                   // tree count
      {11, "deep nodes", 4, 0xFFFFF000u},    // the first node's right child far away
      {11, "deep nodes", 4, 0x00001000u},    // right child next to it
      {10, "deep trees", 0, 12345},          // node range
      {3, "complete trees", 0, 0x7FFFFFFF},  // slot range
      {3, "complete trees", 12, 9},          // depth
      {4, "complete slots", 0, 0xFFFFFFFF},  // slot outside the predicate table
  };
  for (const Case& c : cases) {
    std::string bytes = *good;
    auto [off, size] = FindSection(bytes, kFirstLayoutSection + c.section);
    ASSERT_GE(size, c.at + 4) << c.name;
    std::memcpy(bytes.data() + off + c.at, &c.value, 4);
    FixCrc(&bytes);
    auto back = LoadFromFile(tmp, bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();  // the forest's own sections are intact
    auto p = MakeModelPredictor(std::make_shared<const Forest>(std::move(back).value()));
    ASSERT_FALSE(p.ok()) << c.name;
    const std::string msg = p.status().ToString();
    EXPECT_NE(msg.find(tmp.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("compiled layout section"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.name), std::string::npos) << c.name << ": " << msg;
  }
  // Truncated or missing layout sections.
  {
    std::string bytes = *good;
    uint32_t n;
    std::memcpy(&n, bytes.data() + 24, 4);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id;
      std::memcpy(&id, bytes.data() + 32 + 24 * i, 4);
      if (id == kFirstLayoutSection + 12) {  // deep values: one record short
        uint64_t size;
        std::memcpy(&size, bytes.data() + 32 + 24 * i + 16, 8);
        size -= 8;
        std::memcpy(bytes.data() + 32 + 24 * i + 16, &size, 8);
      }
    }
    FixCrc(&bytes);
    auto back = LoadNativeModel(bytes);
    ASSERT_TRUE(back.ok());
    auto p = MakeModelPredictor(std::make_shared<const Forest>(std::move(back).value()));
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().ToString().find("(deep "), std::string::npos) << p.status().ToString();
  }
  // Random damage to every layout section: refused, or (when the bytes
  // still hold) predicts without reading out of bounds (ASan).
  std::mt19937 rng(17);
  for (uint32_t s = 0; s <= 13; ++s) {
    auto [off, size] = FindSection(*good, kFirstLayoutSection + s);
    if (size == 0) continue;
    for (int k = 0; k < 40; ++k) {
      std::string bytes = *good;
      const size_t at = off + std::uniform_int_distribution<size_t>(0, size - 1)(rng);
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
      FixCrc(&bytes);
      auto back = LoadNativeModel(bytes);
      ASSERT_TRUE(back.ok());
      auto shared = std::make_shared<const Forest>(std::move(back).value());
      auto p = MakeModelPredictor(shared);
      if (!p.ok()) continue;
      const std::vector<float> x = Rows(*shared, 200, k);
      std::vector<double> out(200 * shared->n_outputs);
      (*p)->PredictRaw(x.data(), 200, out.data());
    }
  }
  fs::remove(tmp);
}

}  // namespace
}  // namespace fb
