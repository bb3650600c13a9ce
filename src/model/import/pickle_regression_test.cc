// Fuzz regressions: every file of the pickle fuzz corpus must load or fail
// cleanly, and every reproducer in fuzz/regressions/pickle (written by
// fuzz/make_pickle_regressions.py, listed with the error each must give in
// expected-errors.tsv) must fail with that error, as invalid data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "model/import/model_loader.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kFuzz = fs::path(FB_SOURCE_DIR) / "fuzz";

TEST(PickleFuzzRegression, CorpusLoadsOrFailsCleanly) {
  size_t files = 0, loaded = 0;
  for (const auto& e : fs::directory_iterator(kFuzz / "corpus/pickle")) {
    if (!e.is_regular_file()) continue;
    auto r = LoadModelBytes(Slurp(e.path()), e.path().filename().string());
    if (r.ok()) {
      ++loaded;
    } else {
      EXPECT_NE(r.status().code(), StatusCode::kInternal) << e.path() << ": " << r.status().ToString();
    }
    ++files;
  }
  EXPECT_GE(files, 10u);
  EXPECT_GE(loaded, 8u);  // the scikit-learn models of the corpus load
}

TEST(PickleFuzzRegression, ReproducersFailWithTheirError) {
  const fs::path dir = kFuzz / "regressions/pickle";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::map<std::string, std::string> want;
  std::istringstream tsv(Slurp(dir / "expected-errors.tsv"));
  std::string line;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    want[line.substr(0, tab)] = line.substr(tab + 1);
  }
  ASSERT_GE(want.size(), 3u);
  size_t replayed = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name == "expected-errors.tsv" || e.path().extension() == ".md") continue;
    SCOPED_TRACE(name);
    auto it = want.find(name);
    ASSERT_NE(it, want.end()) << "not listed in expected-errors.tsv";
    auto r = LoadModelBytes(Slurp(e.path()), name);
    ASSERT_FALSE(r.ok()) << "a reproducer loaded";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << r.status().ToString();
    EXPECT_NE(r.status().message().find(it->second), std::string::npos) << r.status().ToString();
    ++replayed;
  }
  EXPECT_EQ(replayed, want.size()) << "a listed reproducer is missing";
}

}  // namespace
}  // namespace fb
