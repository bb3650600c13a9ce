// Fuzz regressions: every file of the pickle fuzz corpus and every crash or
// timeout reproducer the fuzzer found (fuzz/regressions/pickle) goes through
// LoadModelBytes. Each must load or fail cleanly; the reproducers must fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/import/model_loader.h"

namespace fb {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PickleFuzzRegression, CorpusAndReproducers) {
  const std::filesystem::path root = std::filesystem::path(FB_SOURCE_DIR) / "fuzz";
  size_t files = 0;
  for (const char* dir : {"corpus/pickle", "regressions/pickle"}) {
    if (!std::filesystem::exists(root / dir)) continue;
    for (const auto& e : std::filesystem::directory_iterator(root / dir)) {
      if (!e.is_regular_file() || e.path().extension() == ".md") continue;
      std::string bytes = Slurp(e.path());
      auto r = LoadModelBytes(bytes, e.path().filename().string());
      if (std::string(dir) == "regressions/pickle") {
        EXPECT_FALSE(r.ok()) << e.path();
      }
      ++files;
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace fb
