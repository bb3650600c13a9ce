// TestHttpServer: a loopback (127.0.0.1, free port) HTTP/1.1 server for
// tests, answering each request with a handler's reply on its own thread.
// Replies can misbehave on purpose: drop the connection without answering,
// close it part-way through the body, or stall mid-body, so that retry and
// timeout paths are tested against real sockets. Every connection is closed
// after one reply.
//
// Test-only (linked into test binaries, not into forestbatch).
// Thread safety: the handler runs on many threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fb {

struct TestHttpRequest {
  std::string method;
  std::string target;                          // as sent: "/bucket/key?x=y"
  std::string path;                            // target before '?', still percent-encoded
  std::string query;                           // after '?'
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  // Decoded query parameters.
  std::map<std::string, std::string> params;
  bool Has(const std::string& param) const { return params.count(param) != 0; }
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct TestHttpReply {
  enum class Fault { kNone, kDrop, kCloseMidBody, kStallMidBody };
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Fault fault = Fault::kNone;
  size_t fault_after = 0;  // body bytes sent before closing or stalling
  int stall_ms = 0;
};

std::string PercentDecode(const std::string& s);

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpReply(const TestHttpRequest&)>;
  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
};

}  // namespace fb
