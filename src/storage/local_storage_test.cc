#include <gtest/gtest.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "storage/storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

TEST(LocalStorageTest, ListsRecursivelySortedSkippingTemporaries) {
  fs::path dir = fs::temp_directory_path() / ("fb_local_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto s = LocalStorage();
  ASSERT_TRUE(s->WriteAll((dir / "b.csv").string(), "b").ok());
  ASSERT_TRUE(s->WriteAll((dir / "a" / "z.csv").string(), "zz").ok());
  auto tmp = AtomicFile::Create((dir / "c.csv").string());  // in flight: must not be listed
  ASSERT_TRUE(tmp.ok());
  auto list = s->List(dir.string());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].relative, "a/z.csv");
  EXPECT_EQ((*list)[0].size, 2u);
  EXPECT_EQ((*list)[1].relative, "b.csv");
  EXPECT_EQ(*s->ReadAll((*list)[1].uri), "b");
  EXPECT_FALSE((*s->Stat((dir / "nope").string())).has_value());
  EXPECT_EQ(s->List((dir / "nope").string()).status().code(), StatusCode::kNotFound);
  tmp->Abort();
  fs::remove_all(dir);
}

TEST(LocalStorageTest, WriteIfAbsentCreatesOnceCompleteAndLeavesNoTemporary) {
  fs::path dir = fs::temp_directory_path() / ("fb_local_excl_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto s = LocalStorage();
  const std::string path = (dir / "sub" / "x.claim").string();
  ASSERT_TRUE(s->WriteIfAbsent(path, "first\n").ok());  // creates the folder too
  Status again = s->WriteIfAbsent(path, "second\n");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.ToString().find(path), std::string::npos);
  EXPECT_EQ(*s->ReadAll(path), "first\n");
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(dir / "sub")) entries += !e.path().empty();
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(s->WriteIfAbsent("-", "x").code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(JoinUnderTest, RefusesEscapes) {
  EXPECT_EQ(*JoinUnder("out", "a/b.csv"), "out/a/b.csv");
  EXPECT_EQ(*JoinUnder("s3://b/p/", "x"), "s3://b/p/x");
  EXPECT_FALSE(JoinUnder("out", "../x").ok());
  EXPECT_FALSE(JoinUnder("out", "a/../../x").ok());
  EXPECT_FALSE(JoinUnder("out", "/etc/passwd").ok());
  EXPECT_FALSE(JoinUnder("out", "").ok());
}

}  // namespace
}  // namespace fb
