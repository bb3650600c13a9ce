#include "runner/spot_notice.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace fb {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The local IMDS stand-in (testdata/imds_server.py) on 127.0.0.1.
class ImdsServer {
 public:
  ImdsServer() {
    dir_ = fs::temp_directory_path() / fmt::format("fb_imds_{}_{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
    notice_ = (dir_ / "notice").string();
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string script = std::string(FB_SOURCE_DIR) + "/src/runner/testdata/imds_server.py";
      ::execl("/usr/bin/python3", "python3", script.c_str(), notice_.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    int port = 0;
    if (std::fscanf(f, "%d", &port) != 1) port = 0;
    std::fclose(f);
    endpoint_ = fmt::format("http://127.0.0.1:{}", port);
  }
  ~ImdsServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    fs::remove_all(dir_);
  }
  const std::string& endpoint() const { return endpoint_; }
  void Notice(const std::string& body) { std::ofstream(notice_) << body; }
  void ExpireTokens() { std::ofstream(notice_ + ".tokens") << "expire"; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  std::string notice_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

SpotNoticeOptions Fast(const std::string& endpoint) {
  SpotNoticeOptions o;
  o.endpoint = endpoint;
  o.poll_interval = 50ms;
  return o;
}

TEST(SpotNoticeTest, NoNoticeThenNotice) {
  ImdsServer server;
  std::string token;
  auto r = CheckSpotNotice(Fast(server.endpoint()), token);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(token.empty());
  server.Notice(R"({"action": "terminate", "time": "2026-11-28T21:00:00Z"})");
  r = CheckSpotNotice(Fast(server.endpoint()), token);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->action, "terminate");
  EXPECT_EQ((*r)->time, "2026-11-28T21:00:00Z");
}

TEST(SpotNoticeTest, ExpiredTokenIsRenewed) {
  ImdsServer server;
  std::string token;
  ASSERT_TRUE(CheckSpotNotice(Fast(server.endpoint()), token).ok());
  std::string first = token;
  server.ExpireTokens();
  auto r = CheckSpotNotice(Fast(server.endpoint()), token);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(token, first);
}

TEST(SpotNoticeTest, UnreachableEndpointIsAnError) {
  std::string token;
  auto o = Fast("http://127.0.0.1:1");
  auto r = CheckSpotNotice(o, token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
}

TEST(SpotNoticeTest, WatcherCallsBackOnce) {
  ImdsServer server;
  std::atomic<int> calls{0};
  SpotNoticeWatcher w(Fast(server.endpoint()), [&calls](const SpotNotice& n) {
    EXPECT_EQ(n.action, "stop");
    calls++;
  });
  for (int i = 0; i < 200 && w.polls() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(w.notice_seen());
  EXPECT_EQ(w.last_error(), "");
  server.Notice(R"({"action": "stop", "time": "2026-11-28T21:00:00Z"})");
  for (int i = 0; i < 500 && !w.notice_seen(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(w.notice_seen());
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(w.notice()->action, "stop");
}

TEST(SpotNoticeTest, WatcherKeepsTryingAndStopsPromptly) {
  SpotNoticeOptions o = Fast("http://127.0.0.1:1");
  o.poll_interval = 60s;
  auto start = std::chrono::steady_clock::now();
  {
    SpotNoticeWatcher w(o, nullptr);
    for (int i = 0; i < 200 && w.polls() < 1; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_NE(w.last_error(), "");
    EXPECT_FALSE(w.notice_seen());
  }
  // The destructor wakes the sleeping thread instead of waiting out the interval.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

GetEnv Env(std::map<std::string, std::string> m) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(m));
  return [shared](const char* n) -> const char* {
    auto it = shared->find(n);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(SpotNoticeTest, Config) {
  auto c = SpotNoticeConfig("", "", Env({}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());  // auto, not on AWS Batch
  c = SpotNoticeConfig("", "", Env({{"AWS_BATCH_JOB_ID", "abc:3"}}));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->endpoint, kDefaultImdsEndpoint);
  c = SpotNoticeConfig("", "", Env({{"FORESTBATCH_SPOT_ENDPOINT", "http://127.0.0.1:9/"}}));
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->endpoint, "http://127.0.0.1:9");
  c = SpotNoticeConfig("off", "http://x", Env({{"AWS_BATCH_JOB_ID", "a"}}));
  EXPECT_FALSE(c->has_value());
  c = SpotNoticeConfig("", "", Env({{"FORESTBATCH_SPOT_NOTICE", "on"}}));
  EXPECT_TRUE(c->has_value());
  c = SpotNoticeConfig("on", "", Env({{"FORESTBATCH_SPOT_POLL_MS", "250"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->poll_interval, std::chrono::milliseconds(250));
  EXPECT_FALSE(SpotNoticeConfig("on", "", Env({{"FORESTBATCH_SPOT_POLL_MS", "5s"}})).ok());
  EXPECT_FALSE(SpotNoticeConfig("maybe", "", Env({})).ok());
  EXPECT_FALSE(SpotNoticeConfig("on", "169.254.169.254", Env({})).ok());
}

}  // namespace
}  // namespace fb
