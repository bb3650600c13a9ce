#include "common/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fb {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fb_atomic_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t CountEntries() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, CommitMakesCompleteFileAppear) {
  std::string path = (dir_ / "sub" / "out.csv").string();
  auto f = AtomicFile::Create(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(f->Write("a,b\n").ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(IsTemporaryName(fs::path(f->temp_path()).filename().string()));
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_EQ(*ReadFile(path), "a,b\n");
  EXPECT_EQ(fs::directory_iterator(dir_ / "sub")->path().filename(), "out.csv");
}

TEST_F(AtomicFileTest, AbortAndDestructorLeaveNothing) {
  std::string path = (dir_ / "out.csv").string();
  {
    auto f = AtomicFile::Create(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Write("partial").ok());
  }
  EXPECT_EQ(CountEntries(), 0u);
  auto g = AtomicFile::Create(path);
  ASSERT_TRUE(g->Write("x").ok());
  g->Abort();
  g->Abort();
  EXPECT_EQ(CountEntries(), 0u);
}

TEST_F(AtomicFileTest, CommitReplacesExistingFile) {
  std::string path = (dir_ / "out.csv").string();
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "new").ok());
  EXPECT_EQ(*ReadFile(path), "new");
  EXPECT_EQ(CountEntries(), 1u);
}

TEST_F(AtomicFileTest, TemporaryNames) {
  EXPECT_TRUE(IsTemporaryName(".out.csv.fbtmp.12.abcdef01"));
  EXPECT_FALSE(IsTemporaryName("out.csv"));
  EXPECT_FALSE(IsTemporaryName(".hidden"));
}

TEST_F(AtomicFileTest, ReadMissingFileIsNotFound) {
  auto r = ReadFile((dir_ / "nope").string());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fb
