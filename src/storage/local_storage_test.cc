#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

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

// A local file that changes while it is read: its stream reads what is there
// (read(2) copies it), and CheckUnchanged says so, naming the file, once the
// reader is done. Truncated, grown, written in place (same size), touched:
// each an error. Replaced by a rename: the open file is read whole, no error.
TEST(LocalStorageTest, ReadStreamsTellAFileThatChangedWhileRead) {
  const fs::path dir = fs::temp_directory_path() / ("fb_local_change_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto s = LocalStorage();
  const std::string path = (dir / "in.csv").string();
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + ",1\n";
  // Writes `text` and dates it in the past, so that any later write changes
  // its modification time whatever the clock's granularity.
  auto fresh = [&] {
    ASSERT_TRUE(WriteFileAtomically(path, text).ok());
    const struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), past, 0), 0);
  };
  enum Change { kNone, kTruncate, kGrow, kOverwrite, kTouch, kRename };
  for (Change change : {kNone, kTruncate, kGrow, kOverwrite, kTouch, kRename}) {
    fresh();
    auto in = s->OpenRead(path);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    std::string got(1000, '\0');
    ASSERT_EQ(*(*in)->Read(got.data(), got.size()), 1000u);
    switch (change) {
      case kNone: break;
      case kTruncate: ASSERT_EQ(::truncate(path.c_str(), 5000), 0); break;
      case kGrow: {
        const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
        ASSERT_EQ(::write(fd, "7,7\n", 4), 4);
        ::close(fd);
        break;
      }
      case kOverwrite: {
        const int fd = ::open(path.c_str(), O_WRONLY);
        ASSERT_EQ(::pwrite(fd, "9", 1, 50000), 1);
        ::close(fd);
        break;
      }
      case kTouch: ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), nullptr, 0), 0); break;
      case kRename:
        ASSERT_TRUE(WriteFileAtomically(path, "other\n").ok());  // a new file renamed over it
        break;
    }
    std::string rest(text.size() + 100, '\0');
    auto n = (*in)->Read(rest.data(), rest.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    const Status st = (*in)->CheckUnchanged();
    if (change == kNone || change == kRename) {
      EXPECT_TRUE(st.ok()) << change << ": " << st.ToString();
      EXPECT_EQ(got + rest.substr(0, *n), text) << change;
      continue;
    }
    EXPECT_EQ(st.code(), StatusCode::kIoError) << change << ": " << st.ToString();
    EXPECT_NE(st.ToString().find(path), std::string::npos) << st.ToString();
    if (change == kTruncate) {
      EXPECT_NE(st.ToString().find("now"), std::string::npos) << st.ToString();
    }
  }
  // A pipe keeps working (no size to compare): every byte, then OK.
  const std::string fifo = (dir / "pipe.csv").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    for (size_t at = 0; at < text.size(); at += 777) {
      const size_t n = std::min<size_t>(777, text.size() - at);
      if (::write(fd, text.data() + at, n) != static_cast<ssize_t>(n)) break;
    }
    ::close(fd);
  });
  auto all = s->ReadAll(fifo);
  writer.join();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, text);
  auto again = s->OpenRead(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->CheckUnchanged().ok());
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
