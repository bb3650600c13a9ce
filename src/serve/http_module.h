// The boundary between forestbatch and its HTTP module (forestbatch-http.so,
// http_module.cc): cpp-httplib, and with it libssl, libcrypto and brotli,
// loaded only by `forestbatch serve` (http_server.cc dlopens the module from
// the binary's folder) instead of by every process at start (about 3 ms of
// CPU each: BENCHMARKS.md, session 10). Plain C entry points and std types
// only, so that nothing but these declarations is shared across the two.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "serve/dashboard.h"

namespace fb::serve {

// What the module's server calls; owned by the caller, living as long as
// the server.
struct HttpHandlers {
  std::function<HttpResponse(const HttpRequest&)> handle;
  // The next server-sent event of a job's progress into *event and whether
  // the job is still live; false when there is none (an unknown job).
  std::function<bool(const std::string& job, std::string* event, bool* live)> progress;
  const std::atomic<bool>* stopping = nullptr;
};

}  // namespace fb::serve

extern "C" {
// Version of this table: the module refuses a binary of another.
#define FB_HTTP_MODULE_ABI 1
struct FbHttpModule {
  int abi;
  void* (*create)(const fb::serve::HttpHandlers* handlers);
  void (*destroy)(void* server);
  // Binds host:port (port 0: any free port); the port bound, or -1.
  int (*bind)(void* server, const char* host, int port);
  // Serves until stop; 0 when it stopped unexpectedly.
  int (*listen)(void* server);
  void (*stop)(void* server);
};
// The module's one exported symbol.
const FbHttpModule* forestbatch_http_module();
}
