#include "common/atomic_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

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

// Output reaches the kernel in pieces of 1 MiB, not through stdio's 4 KiB
// default (one write call a page: 2 ms of a seed file's CPU), and every byte
// arrives, in order, across the buffer's edges and the moved object.
TEST_F(AtomicFileTest, WritesReachTheFileInLargePieces) {
  const std::string path = (dir_ / "out.csv").string();
  auto made = AtomicFile::Create(path);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  AtomicFile f = std::move(*made);
  std::string expected;
  auto write = [&](size_t n) {
    std::string piece(n, '\0');
    for (size_t i = 0; i < n; ++i) piece[i] = static_cast<char>('a' + (expected.size() + i) % 23);
    expected += piece;
    ASSERT_TRUE(f.Write(piece).ok());
  };
  auto on_disk = [&] {
    struct stat st {};
    EXPECT_EQ(::stat(f.temp_path().c_str(), &st), 0);
    return static_cast<size_t>(st.st_size);
  };
  for (int i = 0; i < 40; ++i) write(16 << 10);  // 640 KiB in 16 KiB pieces: all still held
  EXPECT_EQ(on_disk(), 0u);
  for (int i = 0; i < 40; ++i) write(16 << 10);  // past 1 MiB: one buffer's worth went out
  EXPECT_GE(on_disk(), size_t{1} << 20);
  EXPECT_LT(on_disk(), expected.size());
  write(3 << 20);  // bigger than the buffer
  write(7);
  AtomicFile g = std::move(f);
  ASSERT_TRUE(g.Write("tail").ok());
  expected += "tail";
  ASSERT_TRUE(g.Commit().ok());
  EXPECT_EQ(*ReadFile(path), expected);
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
  EXPECT_FALSE(IsTemporaryName(".out.csv.fbtmp."));
  EXPECT_FALSE(IsTemporaryName(".out.csv.fbtmp.x1.ab"));
  std::string_view prefix;
  long pid = 0;
  const std::string made = TemporaryNameFor("out.csv");
  ASSERT_TRUE(ParseTemporaryName(made, &prefix, &pid)) << made;
  EXPECT_EQ(prefix, ".out.csv.fbtmp.");
  EXPECT_EQ(prefix, TemporaryPrefixFor("out.csv"));
  EXPECT_EQ(pid, ::getpid());
  // A name that itself contains the mark still parses to its own prefix.
  const std::string tricky = TemporaryNameFor("a.fbtmp.1.csv");
  ASSERT_TRUE(ParseTemporaryName(tricky, &prefix, &pid));
  EXPECT_EQ(prefix, TemporaryPrefixFor("a.fbtmp.1.csv"));
}

// Any name a folder can hold (up to NAME_MAX, 255 bytes) has a temporary that
// fits too; long names keep distinct prefixes (a hash of the whole name).
TEST_F(AtomicFileTest, LongestNamesGetTemporariesThatFit) {
  for (size_t len : {200u, 228u, 229u, 246u, 255u}) {
    const std::string name = std::string(len - 4, 'n') + ".csv";
    EXPECT_LE(TemporaryNameFor(name).size(), 255u) << len;
    const std::string path = (dir_ / name).string();
    auto f = AtomicFile::Create(path);
    ASSERT_TRUE(f.ok()) << len << ": " << f.status().ToString();
    ASSERT_TRUE(f->Write("x").ok());
    ASSERT_TRUE(f->Commit().ok());
    EXPECT_EQ(*ReadFile(path), "x");
  }
  EXPECT_NE(TemporaryPrefixFor(std::string(250, 'a') + "1"), TemporaryPrefixFor(std::string(250, 'a') + "2"));
}

// A named pipe is written in place (its reader gets the bytes as they come)
// and stays a pipe: a temporary renamed over it would replace it with a
// regular file, and `-o /dev/null` would replace the device.
TEST_F(AtomicFileTest, FifoIsWrittenInPlaceNotReplaced) {
  fs::create_directories(dir_ / "out");
  const std::string fifo = (dir_ / "out" / "pipe").string();
  const std::string same = (dir_ / "same-pipe").string();  // a second name for the pipe
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::link(fifo.c_str(), same.c_str()), 0);
  for (bool commit : {true, false}) {
    std::string got;
    std::thread reader([&] {
      const int fd = ::open(same.c_str(), O_RDONLY);  // waits for a writer
      char buf[256];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
      ::close(fd);
    });
    {
      auto f = AtomicFile::Create(fifo);
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      if (f.ok()) {
        EXPECT_TRUE(f->Write("a,b\n").ok());
        EXPECT_TRUE(f->Write("1,2\n").ok());
        // Without Commit the destructor aborts: the pipe is closed with what was written.
        if (commit) {
          EXPECT_TRUE(f->Commit().ok());
        }
      }
    }
    // Wakes the reader if Create never opened the pipe (the failure this test is for).
    if (const int fd = ::open(same.c_str(), O_WRONLY | O_NONBLOCK); fd >= 0) ::close(fd);
    reader.join();
    EXPECT_EQ(got, "a,b\n1,2\n") << commit;
    EXPECT_TRUE(fs::is_fifo(fifo)) << commit;
    size_t entries = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_ / "out")) ++entries;
    EXPECT_EQ(entries, 1u) << commit;  // no temporary beside it
  }
}

// The same for a character device (the node of /dev/null, made here where
// the test may: as root, on a file system that allows devices).
TEST_F(AtomicFileTest, CharacterDeviceIsWrittenInPlaceNotReplaced) {
  fs::create_directories(dir_);
  const std::string node = (dir_ / "null").string();
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot make a device node here";
  const int probe = ::open(node.c_str(), O_WRONLY);
  if (probe < 0) GTEST_SKIP() << "this file system does not open device nodes (nodev)";
  ::close(probe);
  auto f = AtomicFile::Create(node);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(f->Write(std::string(3 << 20, 'x')).ok());  // past the write-back step
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_TRUE(fs::is_character_file(node));
  EXPECT_EQ(CountEntries(), 1u);
}

TEST_F(AtomicFileTest, ReadMissingFileIsNotFound) {
  auto r = ReadFile((dir_ / "nope").string());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

TEST(ReadFileTest, BoundedForFilesWithoutEnd) {
  auto r = ReadFile("/dev/zero", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(r.status().ToString().find("/dev/zero"), std::string::npos);
  EXPECT_NE(r.status().message().find("1048576"), std::string::npos);
  auto empty = ReadFile("/dev/null", 1 << 20);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(NameWithinTest, ShortNamesKeptLongOnesHashed) {
  EXPECT_EQ(NameWithin("a.csv", 10), "a.csv");
  const std::string long_name(300, 'x');
  const std::string fitted = NameWithin(long_name, 200);
  EXPECT_EQ(fitted.size(), 200u);
  EXPECT_EQ(fitted[183], '~');
  EXPECT_NE(NameWithin(long_name + "y", 200), fitted);  // the hash covers the whole name
  EXPECT_EQ(NameWithin(long_name, 200), fitted);
}

}  // namespace
}  // namespace fb
