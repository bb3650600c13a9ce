// HttpServer: puts a Dashboard on a socket with cpp-httplib (Debian's
// libcpp-httplib-dev), which lives in a module of its own,
// forestbatch-http.so beside the binary (serve/http_module.h), loaded by the
// first Bind: every request goes through Dashboard::Handle; a response
// asking for server-sent events streams the job's progress once a second
// until the job ends or the client leaves.
//
// Thread safety: Listen blocks the calling thread; Stop may be called from
// any thread (e.g. a signal watcher).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/status.h"
#include "serve/dashboard.h"
#include "serve/http_module.h"

namespace fb::serve {

class HttpServer {
 public:
  explicit HttpServer(Dashboard dashboard);
  ~HttpServer();
  // Binds host:port (port 0: any free port); returns the port bound.
  // Unsupported when the HTTP module cannot be loaded.
  Result<int> Bind(const std::string& host, int port);
  // Not while serving.
  Dashboard& dashboard() { return dashboard_; }
  // Serves until Stop.
  Status Listen();
  void Stop();

 private:
  Dashboard dashboard_;
  HttpHandlers handlers_;
  const FbHttpModule* module_ = nullptr;
  void* server_ = nullptr;
  std::atomic<bool> stopping_{false};
};

// The path of the HTTP module: forestbatch-http.so in the folder of the
// running binary (FORESTBATCH_HTTP_MODULE, when set, instead).
std::string HttpModulePath();

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback); the port 0..65535.
Status ParseListen(const std::string& listen, std::string* host, int* port);

// Whether binding to `host` keeps the server to this machine (127.0.0.0/8,
// ::1, localhost).
bool IsLoopback(const std::string& host);

}  // namespace fb::serve
