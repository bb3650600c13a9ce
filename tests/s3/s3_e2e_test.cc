// S3Storage against a real S3 implementation (s3rver, started by
// with_s3rver.sh, which exports AWS_ENDPOINT_URL and FB_TEST_S3_BUCKET), and
// cross-checked with the AWS CLI (/usr/bin/aws): ctest runs the AwsCli cases
// as an entry of their own (s3_e2e_s3rver_awscli), which requires it. Nothing
// here skips: without the server or the CLI the cases fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "storage/storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

std::string Bucket() {
  const char* b = std::getenv("FB_TEST_S3_BUCKET");
  return b ? b : "";
}

std::shared_ptr<Storage> S3() {
  auto s = StorageFor("s3://" + Bucket() + "/");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

class S3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Bucket().empty()) << "FB_TEST_S3_BUCKET is not set: run through tests/s3/with_s3rver.sh";
    root_ = "s3://" + Bucket() + "/";
  }
  std::string root_;
};

TEST_F(S3ServerTest, RoundTripStatDelete) {
  auto s = S3();
  const std::string uri = root_ + "keys/dir one/a+b=c%~é.csv";
  ASSERT_TRUE(s->WriteAll(uri, "x,y\n1,2\n").ok());
  auto got = s->ReadAll(uri);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "x,y\n1,2\n");
  auto st = s->Stat(uri);
  ASSERT_TRUE(st.ok() && st->has_value()) << st.status().ToString();
  EXPECT_EQ((*st)->size, 8u);
  auto list = s->List(root_ + "keys");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].relative, "dir one/a+b=c%~é.csv");
  EXPECT_EQ((*list)[0].uri, uri);
  ASSERT_TRUE(s->Delete(uri).ok());
  EXPECT_FALSE((*s->Stat(uri)).has_value());
  EXPECT_EQ(s->ReadAll(uri).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(s->WriteAll(root_ + "keys/empty", "").ok());
  EXPECT_EQ(*s->ReadAll(root_ + "keys/empty"), "");
}

TEST_F(S3ServerTest, MultipartUploadAndParallelRangedRead) {
  auto s = S3();
  const std::string uri = root_ + "big/object.bin";
  const std::string data = RandomBytes(21 << 20, 7);  // 3 parts of 8 MiB (the last 5), 3 read chunks
  auto w = s->OpenWrite(uri);
  ASSERT_TRUE(w.ok());
  for (size_t i = 0; i < data.size(); i += 1 << 20) ASSERT_TRUE((*w)->Write(data.substr(i, 1 << 20)).ok());
  EXPECT_FALSE((*s->Stat(uri)).has_value()) << "visible before Commit";
  ASSERT_TRUE((*w)->Commit().ok());
  auto got = s->ReadAll(uri);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  // An aborted upload leaves nothing.
  auto a = s->OpenWrite(root_ + "big/aborted.bin");
  ASSERT_TRUE((*a)->Write(data).ok());
  (*a)->Abort();
  EXPECT_FALSE((*s->Stat(root_ + "big/aborted.bin")).has_value());
}

TEST_F(S3ServerTest, ListsMoreThanOnePage) {
  auto s = S3();
  const int n = 1001;  // ListObjectsV2 pages hold 1,000 keys
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += 8) {
        char name[32];
        std::snprintf(name, sizeof name, "many/f%05d.csv", i);
        if (!s->WriteAll(root_ + name, std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto list = s->List(root_ + "many/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), static_cast<size_t>(n));
  EXPECT_EQ((*list)[0].relative, "f00000.csv");
  EXPECT_EQ((*list)[n - 1].relative, "f01000.csv");
  EXPECT_EQ((*list)[n - 1].size, 4u);
}

TEST_F(S3ServerTest, ClearErrors) {
  auto s = S3();
  auto bucket = s->List("s3://no-such-bucket-fb/x");
  EXPECT_EQ(bucket.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bucket.status().message().find("no such bucket"), std::string::npos)
      << bucket.status().ToString();
  EXPECT_EQ(bucket.status().path(), "s3://no-such-bucket-fb/x");
  auto obj = s->ReadAll(root_ + "missing/object");
  EXPECT_EQ(obj.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(obj.status().ToString().find("S3RVER"), std::string::npos) << "credentials in an error";
}

// Objects written by `aws s3 cp` are read by forestbatch and the reverse.
TEST_F(S3ServerTest, InteroperatesWithAwsCli) {
  ASSERT_EQ(access("/usr/bin/aws", X_OK), 0) << "/usr/bin/aws (Debian package awscli) is not installed";
  auto s = S3();
  fs::path dir = fs::temp_directory_path() / ("fb_awscli_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string data = RandomBytes(9 << 20, 3);  // multipart in the CLI too
  std::ofstream(dir / "up.bin", std::ios::binary) << data;
  const std::string endpoint = std::getenv("AWS_ENDPOINT_URL");
  std::string cmd = "/usr/bin/aws s3 cp --only-show-errors --endpoint-url " + endpoint + " " +
                    (dir / "up.bin").string() + " '" + root_ + "cli/from cli.bin'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto got = s->ReadAll(root_ + "cli/from cli.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);

  ASSERT_TRUE(s->WriteAll(root_ + "cli/from fb+x.bin", data).ok());
  cmd = "/usr/bin/aws s3 cp --only-show-errors --endpoint-url " + endpoint + " '" + root_ +
        "cli/from fb+x.bin' " + (dir / "down.bin").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(dir / "down.bin", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str() == data);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fb
