// Test helpers shared by the .fbm tests of import_test (native_layout_test.cc,
// native_lazy_test.cc): the model fixtures of the parity tests, rows that
// reach many branches of any of them, and a section's place in a file. Test
// code only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "model/forest.h"

namespace fb::native_test {

// Every model fixture of the parity tests (xgboost, sklearn, sklearn14,
// lightgbm), sorted; data and scripts beside them left out.
inline std::vector<std::filesystem::path> FixtureModels() {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  const fs::path root = FB_SOURCE_DIR;
  for (const char* dir : {"tests/xgboost/fixtures", "tests/sklearn/fixtures", "tests/sklearn/sklearn14",
                          "tests/lightgbm/fixtures"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
      if (!e.is_regular_file()) continue;
      const std::string name = e.path().filename().string();
      const std::string ext = e.path().extension().string();
      if (ext == ".csv" || ext == ".py" || name.ends_with(".meta.json")) continue;
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// n rows for `f` that reach many branches: small integers, values around
// zero, large values, and NaN where the model takes it.
inline std::vector<float> Rows(const Forest& f, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(-3.0f, 3.0f), wide(-1000.0f, 1000.0f);
  std::uniform_int_distribution<int> small(0, 20), pick(0, 19);
  std::vector<float> x(n * static_cast<size_t>(f.n_features));
  for (float& v : x) {
    const int k = pick(rng);
    v = k < 7 ? unit(rng) : k < 14 ? static_cast<float>(small(rng)) : k < 19 ? wide(rng) : 0.0f;
    if (k == 19 && f.missing_values_supported) v = std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

// Offset and size of section `id` in a .fbm file's bytes (its table entries:
// 24 bytes each from offset 32, the count at offset 24); {0, 0} if absent.
inline std::pair<size_t, size_t> FindSection(const std::string& b, uint32_t id) {
  uint32_t n;
  std::memcpy(&n, b.data() + 24, 4);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t sid;
    uint64_t off, size;
    std::memcpy(&sid, b.data() + 32 + 24 * i, 4);
    std::memcpy(&off, b.data() + 32 + 24 * i + 8, 8);
    std::memcpy(&size, b.data() + 32 + 24 * i + 16, 8);
    if (sid == id) return {off, size};
  }
  return {0, 0};
}

}  // namespace fb::native_test
