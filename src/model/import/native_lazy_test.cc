// A .fbm loaded with ModelLoad::kTreesOnDemand (what `predict` does): the
// trees' nodes stay undecoded (Forest::undecoded) and the predictor reads
// only the stored layout. It must predict bit for bit as the full load does
// for every fixture, every row count (the few-row path runs the kernels on a
// padded tile instead of walking nodes) and every SIMD target; whatever
// needs the nodes decodes them (or reports, naming the file, when they do
// not hold) and never reads empty nodes; damaged files are refused or
// predicted from without reading out of bounds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "common/crc32.h"
#include "common/simd.h"
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

std::vector<double> Sums(const Predictor& p, const Forest& f, size_t n) {
  const std::vector<float> x = Rows(f, n, static_cast<uint32_t>(n) * 31 + 7);
  std::vector<double> out(n * static_cast<size_t>(f.n_outputs));
  p.PredictRaw(x.data(), n, out.data());
  return out;
}

bool BitEqual(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Every CRC of a 1.6 file made right after an edit: each section's (in its
// table entry), the header and table's (offset 28), the whole file's.
void FixCrc(std::string* bytes) {
  uint32_t n;
  std::memcpy(&n, bytes->data() + 24, 4);
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t off, size;
    std::memcpy(&off, bytes->data() + 32 + 24 * i + 8, 8);
    std::memcpy(&size, bytes->data() + 32 + 24 * i + 16, 8);
    const uint32_t crc = Crc32(std::string_view(*bytes).substr(off, size));
    std::memcpy(bytes->data() + 32 + 24 * i + 4, &crc, 4);
  }
  const uint32_t table = Crc32(std::string_view(*bytes).substr(32, 24 * size_t{n}),
                               Crc32(std::string_view(*bytes).substr(12, 16)));
  std::memcpy(bytes->data() + 28, &table, 4);
  const uint32_t crc = Crc32(std::string_view(*bytes).substr(12));
  std::memcpy(bytes->data() + 8, &crc, 4);
}

std::string CrcError(uint32_t id) { return "section " + std::to_string(id) + ": checksum mismatch"; }

fs::path TempFile(const std::string& name) {
  return fs::temp_directory_path() / ("fb-native-lazy-" + std::to_string(::getpid()) + "-" + name);
}

Result<Forest> LoadFromFile(const fs::path& p, const std::string& bytes, ModelLoad mode) {
  std::ofstream(p, std::ios::binary) << bytes;
  return LoadModelFile(p.string(), mode);
}

// Row counts around every threshold of the predictor: the few-row path (< 8),
// the bitvector tile (64) and the complete tile (128), and a deep group (16).
constexpr size_t kRowCounts[] = {1, 2, 7, 8, 9, 16, 17, 63, 64, 65, 127, 128, 129, 300};

bool HasGenericRun(const CompiledForest& cf) {
  for (const TreeRun& r : cf.runs)
    if (r.layout == TreeLayout::kGeneric) return true;
  return false;
}

TEST(LazyLoad, EveryFixturePredictsAsTheFullLoadOnEveryTarget) {
  size_t tested = 0, lazy_kept = 0;
  const fs::path tmp = TempFile("fixture.fbm");
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->preprocessing) continue;
    auto original = std::make_shared<const Forest>(std::move(loaded).value());
    auto bytes = SerializeNativeModel(*original, EncodeLayoutSections(CompileForest(original)));
    ASSERT_TRUE(bytes.ok()) << path;
    auto full_r = LoadFromFile(tmp, *bytes, ModelLoad::kFull);
    auto lazy_r = LoadModelFile(tmp.string(), ModelLoad::kTreesOnDemand);
    ASSERT_TRUE(full_r.ok() && lazy_r.ok()) << path;
    auto full = std::make_shared<const Forest>(std::move(full_r).value());
    auto lazy = std::make_shared<const Forest>(std::move(lazy_r).value());
    ASSERT_TRUE(full->trees_decoded());
    ASSERT_FALSE(lazy->trees_decoded()) << path;
    // What stays: the header, the tree count, every tree's output and node count.
    ASSERT_EQ(lazy->trees.size(), full->trees.size());
    for (size_t t = 0; t < full->trees.size(); ++t) {
      ASSERT_EQ(lazy->trees[t].output, full->trees[t].output);
      ASSERT_EQ(lazy->node_count(t), full->node_count(t));
      ASSERT_TRUE(lazy->trees[t].nodes.empty() && lazy->trees[t].values.empty());
    }
    auto stored = ReadStoredLayout(lazy);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << path;
    // Undecoded only when no run walks the Forest's nodes.
    EXPECT_EQ((*stored)->forest->trees_decoded(), HasGenericRun(**stored)) << path;
    lazy_kept += !(*stored)->forest->trees_decoded();
    auto reference = MakeReferencePredictor(full);
    auto full_p = MakeModelPredictor(full);
    ASSERT_TRUE(full_p.ok());
    for (SimdTarget target : SupportedSimdTargets()) {
      auto lazy_p = MakeCompiledPredictor(**stored, target);
      for (size_t n : kRowCounts) {
        const std::vector<double> want = Sums(*reference, *full, n);
        ASSERT_TRUE(BitEqual(Sums(*lazy_p, *full, n), want))
            << path << ", " << SimdTargetName(target) << ", " << n << " rows";
      }
    }
    auto lazy_model_p = MakeModelPredictor(lazy);
    ASSERT_TRUE(lazy_model_p.ok());
    for (size_t n : kRowCounts)
      ASSERT_TRUE(BitEqual(Sums(**lazy_model_p, *full, n), Sums(**full_p, *full, n))) << path << ", " << n;
    // Finalize reads the tree count and outputs only.
    const std::vector<double> raw = Sums(**full_p, *full, 9);
    for (OutputKind kind : {OutputKind::kPrediction, OutputKind::kMargin}) {
      Predictions a, b;
      Finalize(*full, raw.data(), 9, kind, &a);
      Finalize(*lazy, raw.data(), 9, kind, &b);
      ASSERT_TRUE(BitEqual(a.values, b.values) && a.label == b.label) << path;
    }
    ++tested;
  }
  fs::remove(tmp);
  EXPECT_GT(tested, 100u);
  EXPECT_GT(lazy_kept, 50u);
}

// A forest loaded lazily from `bytes` (through a file).
std::shared_ptr<const Forest> LoadLazy(const fs::path& tmp, const std::string& bytes) {
  auto r = LoadFromFile(tmp, bytes, ModelLoad::kTreesOnDemand);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  EXPECT_FALSE(r->trees_decoded());
  return std::make_shared<const Forest>(std::move(r).value());
}

// The first fixture of each kind: boosted with rounds, and a numeric forest.
std::shared_ptr<const Forest> FirstFixture(bool boosted) {
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->preprocessing) continue;
    if (boosted != (loaded->trees_per_iteration > 0 &&
                    loaded->trees.size() >= 2 * static_cast<size_t>(loaded->trees_per_iteration)))
      continue;
    auto f = std::make_shared<const Forest>(std::move(loaded).value());
    if (HasGenericRun(CompileForest(f))) continue;
    return f;
  }
  return nullptr;
}

TEST(LazyLoad, ConsumersOfNodesDecodeThem) {
  const fs::path tmp = TempFile("consumers.fbm");
  for (bool boosted : {false, true}) {
    auto original = FirstFixture(boosted);
    ASSERT_NE(original, nullptr);
    auto bytes = SerializeNativeModel(*original, EncodeLayoutSections(CompileForest(original)));
    ASSERT_TRUE(bytes.ok());
    auto full_r = LoadFromFile(tmp, *bytes, ModelLoad::kFull);
    ASSERT_TRUE(full_r.ok());
    auto full = std::make_shared<const Forest>(std::move(full_r).value());
    auto lazy = LoadLazy(tmp, *bytes);
    ASSERT_NE(lazy, nullptr);
    // Decoded on demand: the very trees of the full load.
    auto decoded = DecodedForest(lazy);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_TRUE((*decoded)->trees_decoded());
    ASSERT_EQ((*decoded)->trees.size(), full->trees.size());
    for (size_t t = 0; t < full->trees.size(); ++t) {
      const Tree &a = (*decoded)->trees[t], &b = full->trees[t];
      ASSERT_EQ(a.nodes.size(), b.nodes.size());
      ASSERT_EQ(std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(double)), 0);
      for (size_t k = 0; k < a.nodes.size(); ++k)
        ASSERT_TRUE(a.nodes[k].left == b.nodes[k].left && a.nodes[k].right == b.nodes[k].right &&
                    a.nodes[k].feature == b.nodes[k].feature &&
                    std::memcmp(&a.nodes[k].threshold, &b.nodes[k].threshold, 4) == 0);
    }
    EXPECT_EQ((*decoded)->stored_layout, lazy->stored_layout);
    // The reference predictor and CompileForest decode what they walk.
    auto ref_lazy = MakeReferencePredictor(lazy);
    auto ref_full = MakeReferencePredictor(full);
    for (size_t n : {size_t{1}, size_t{7}, size_t{70}})
      EXPECT_TRUE(BitEqual(Sums(*ref_lazy, *full, n), Sums(*ref_full, *full, n)));
    const CompiledForest compiled = CompileForest(lazy);
    EXPECT_TRUE(compiled.forest->trees_decoded());
    // Writing decodes: the same file again.
    auto again = SerializeNativeModel(*lazy, EncodeLayoutSections(compiled));
    ASSERT_TRUE(again.ok());
    auto again_full = SerializeNativeModel(*full, EncodeLayoutSections(CompileForest(full)));
    ASSERT_TRUE(again_full.ok());
    EXPECT_EQ(*again, *again_full);
    // An iteration range drops the layout and decodes the kept trees.
    if (boosted) {
      auto a = SelectIterationsFlag(*lazy, "0:1");
      auto b = SelectIterationsFlag(*full, "0:1");
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_TRUE(a->trees_decoded());
      EXPECT_EQ(a->stored_layout, nullptr);
      auto pa = MakeModelPredictor(std::make_shared<const Forest>(std::move(a).value()));
      auto bf = std::make_shared<const Forest>(std::move(b).value());
      auto pb = MakeModelPredictor(bf);
      ASSERT_TRUE(pa.ok() && pb.ok());
      for (size_t n : {size_t{1}, size_t{7}, size_t{70}})
        EXPECT_TRUE(BitEqual(Sums(**pa, *bf, n), Sums(**pb, *bf, n)));
    }
  }
  fs::remove(tmp);
}

// A .fbm of `forest` whose first internal node's flags are invalid, CRC fixed.
std::string WithBadNode(const Forest& forest) {
  auto f = std::make_shared<const Forest>(forest);
  auto bytes = SerializeNativeModel(forest, EncodeLayoutSections(CompileForest(f)));
  EXPECT_TRUE(bytes.ok());
  auto [off, size] = FindSection(*bytes, 7);  // nodes: 28-byte records, flags at +24
  EXPECT_GE(size, 28u);
  (*bytes)[off + 24] = static_cast<char>(0x80);
  FixCrc(&*bytes);
  return *bytes;
}

TEST(LazyLoad, UndecodableNodesAreReportedNamingTheFile) {
  const fs::path tmp = TempFile("bad-nodes.fbm");
  auto original = FirstFixture(true);
  ASSERT_NE(original, nullptr);
  const std::string bad = WithBadNode(*original);
  // The full load refuses the file.
  auto full = LoadFromFile(tmp, bad, ModelLoad::kFull);
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.status().ToString().find("bad flags"), std::string::npos) << full.status().ToString();
  // On demand, the layout predicts (it never reads the nodes) ...
  auto lazy = LoadLazy(tmp, bad);
  ASSERT_NE(lazy, nullptr);
  auto p = MakeModelPredictor(lazy);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto good = MakeModelPredictor(original);
  ASSERT_TRUE(good.ok());
  for (size_t n : {size_t{1}, size_t{7}, size_t{200}})
    EXPECT_TRUE(BitEqual(Sums(**p, *original, n), Sums(**good, *original, n))) << n;
  // ... and whatever needs the nodes gets the decoder's error, naming the file.
  auto expect_error = [&](const Status& st, const char* what) {
    EXPECT_FALSE(st.ok()) << what;
    EXPECT_NE(st.ToString().find(tmp.filename().string()), std::string::npos)
        << what << ": " << st.ToString();
    EXPECT_NE(st.ToString().find("bad flags"), std::string::npos) << what << ": " << st.ToString();
  };
  expect_error(DecodedForest(lazy).status(), "DecodedForest");
  expect_error(DecodeTrees(*lazy).status(), "DecodeTrees");
  expect_error(SerializeNativeModel(*lazy).status(), "SerializeNativeModel");
  expect_error(SelectIterationsFlag(*lazy, "0:1").status(), "SelectIterationsFlag");
  fs::remove(tmp);
}

TEST(LazyLoad, GenericRunsDecodeTheirNodes) {
  // A model with categorical splits: generic runs walk the Forest's nodes,
  // so its predictor decodes them (and reports a file whose nodes are bad).
  const fs::path tmp = TempFile("generic.fbm");
  for (const fs::path& path : FixtureModels()) {
    auto loaded = LoadModelFile(path.string());
    if (!loaded.ok() || loaded->preprocessing) continue;
    auto original = std::make_shared<const Forest>(std::move(loaded).value());
    const CompiledForest cf = CompileForest(original);
    if (!HasGenericRun(cf)) continue;
    auto bytes = SerializeNativeModel(*original, EncodeLayoutSections(cf));
    ASSERT_TRUE(bytes.ok());
    auto lazy = LoadLazy(tmp, *bytes);
    ASSERT_NE(lazy, nullptr);
    auto p = MakeModelPredictor(lazy);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto ref = MakeReferencePredictor(original);
    for (size_t n : kRowCounts) EXPECT_TRUE(BitEqual(Sums(**p, *original, n), Sums(*ref, *original, n))) << n;
    auto bad_lazy = LoadLazy(tmp, WithBadNode(*original));
    ASSERT_NE(bad_lazy, nullptr);
    auto bad_p = MakeModelPredictor(bad_lazy);
    ASSERT_FALSE(bad_p.ok());
    EXPECT_NE(bad_p.status().ToString().find(tmp.filename().string()), std::string::npos)
        << bad_p.status().ToString();
    fs::remove(tmp);
    return;
  }
  FAIL() << "no fixture with a generic run";
}

TEST(LazyLoad, SectionCrcsCheckWhatIsRead) {
  // A 1.6 file loaded with its trees on demand checks the CRCs of the
  // header, the table and every section it reads, and those of the node and
  // value sections only when they are decoded.
  const fs::path tmp = TempFile("crc.fbm");
  auto original = FirstFixture(true);
  ASSERT_NE(original, nullptr);
  auto good = SerializeNativeModel(*original, EncodeLayoutSections(CompileForest(original)));
  ASSERT_TRUE(good.ok());
  uint16_t minor;
  std::memcpy(&minor, good->data() + 14, 2);
  ASSERT_GE(minor, 6);
  auto with_flip = [&](uint32_t section, size_t at) {
    std::string b = *good;
    auto [off, size] = FindSection(b, section);
    EXPECT_GT(size, at);
    b[off + at] = static_cast<char>(b[off + at] ^ 0x10);
    return b;
  };
  auto good_p = MakeModelPredictor(original);
  ASSERT_TRUE(good_p.ok());
  for (uint32_t section : {7u, 8u}) {  // nodes, values: not read
    const std::string b = with_flip(section, 3);
    auto full = LoadFromFile(tmp, b, ModelLoad::kFull);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.status().ToString().find("checksum mismatch"), std::string::npos);
    auto lazy = LoadLazy(tmp, b);
    ASSERT_NE(lazy, nullptr);
    auto p = MakeModelPredictor(lazy);
    ASSERT_TRUE(p.ok());
    for (size_t n : {size_t{1}, size_t{200}})
      EXPECT_TRUE(BitEqual(Sums(**p, *original, n), Sums(**good_p, *original, n)));
    auto d = DecodedForest(lazy);
    ASSERT_FALSE(d.ok());
    const std::string msg = d.status().ToString();
    EXPECT_NE(msg.find(CrcError(section)), std::string::npos) << msg;
    EXPECT_NE(msg.find(tmp.filename().string()), std::string::npos) << msg;
  }
  // Sections it reads: the meta, the tree records, the layout's header and a
  // layout array; and the table itself.
  uint32_t largest = kFirstLayoutSection + 1;  // the largest layout array
  for (uint32_t id = kFirstLayoutSection + 1; id <= kFirstLayoutSection + 13; ++id)
    if (FindSection(*good, id).second > FindSection(*good, largest).second) largest = id;
  for (uint32_t section : {1u, 6u, kFirstLayoutSection, largest}) {
    auto lazy = LoadFromFile(tmp, with_flip(section, 1), ModelLoad::kTreesOnDemand);
    ASSERT_FALSE(lazy.ok()) << section;
    EXPECT_NE(lazy.status().ToString().find(CrcError(section)), std::string::npos)
        << lazy.status().ToString();
  }
  {
    std::string b = *good;
    b[32 + 8] ^= 1;  // the first section's offset
    auto lazy = LoadFromFile(tmp, b, ModelLoad::kTreesOnDemand);
    ASSERT_FALSE(lazy.ok());
    EXPECT_NE(lazy.status().ToString().find("checksum mismatch"), std::string::npos);
  }
  // A 1.5 file (no section CRCs): the whole file's CRC, as before.
  {
    std::string b = *good;
    const uint16_t five = 5;
    std::memcpy(b.data() + 14, &five, 2);
    const uint32_t zero = 0;
    std::memcpy(b.data() + 28, &zero, 4);
    uint32_t n;
    std::memcpy(&n, b.data() + 24, 4);
    for (uint32_t i = 0; i < n; ++i) std::memcpy(b.data() + 32 + 24 * i + 4, &zero, 4);
    const uint32_t crc = Crc32(std::string_view(b).substr(12));
    std::memcpy(b.data() + 8, &crc, 4);
    EXPECT_NE(LoadLazy(tmp, b), nullptr);  // loads on demand, checked whole
    auto [off, size] = FindSection(b, 7);
    b[off + 3] = static_cast<char>(b[off + 3] ^ 0x10);
    auto lazy = LoadFromFile(tmp, b, ModelLoad::kTreesOnDemand);
    ASSERT_FALSE(lazy.ok());
    EXPECT_NE(lazy.status().ToString().find("checksum mismatch (the file"), std::string::npos);
  }
  fs::remove(tmp);
}

TEST(LazyLoad, DamagedFilesAreRefusedOrPredictWithoutOutOfBoundsReads) {
  // Random bit flips anywhere in the file (CRC fixed): the on-demand load
  // refuses the file, or its predictor reads no byte outside its arrays
  // (ASan), and decoding on demand either succeeds or reports.
  const fs::path tmp = TempFile("damaged.fbm");
  auto original = FirstFixture(true);
  ASSERT_NE(original, nullptr);
  auto good = SerializeNativeModel(*original, EncodeLayoutSections(CompileForest(original)));
  ASSERT_TRUE(good.ok());
  std::mt19937 rng(1717);
  size_t loaded = 0;
  for (int k = 0; k < 400; ++k) {
    std::string bytes = *good;
    const size_t at = std::uniform_int_distribution<size_t>(12, bytes.size() - 1)(rng);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
    FixCrc(&bytes);
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << bytes;
    auto r = LoadModelFile(tmp.string(), ModelLoad::kTreesOnDemand);
    if (!r.ok()) continue;
    ++loaded;
    auto f = std::make_shared<const Forest>(std::move(r).value());
    auto p = MakeModelPredictor(f);
    if (p.ok())
      for (size_t n : {size_t{1}, size_t{7}, size_t{130}}) Sums(**p, *f, n);
    auto d = DecodedForest(f);
    if (d.ok()) {
      EXPECT_TRUE((*d)->trees_decoded());
      EXPECT_TRUE(BuildForest(**d).ok());
    }
  }
  EXPECT_GT(loaded, 100u);
  fs::remove(tmp);
}

}  // namespace
}  // namespace fb
