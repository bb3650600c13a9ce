// HttpClient: a small blocking HTTP/1.1 client over libcurl, used only as a
// transport by S3Storage and the credential providers (signing is ours, see
// sigv4.h).
//
// libcurl is not linked: it is loaded (dlopen of libcurl.so.4) on the first
// Send, so that runs that never touch HTTP do not pay at start-up for it and
// the ~27 libraries it needs. Without it, Send fails with kUnsupported
// saying which library to install.
//
// Send() returns the response whatever its status code; only transport
// failures (connection refused or reset, timeouts, a stalled body) are
// errors, and they are marked transient so that callers may retry. Error
// messages never contain request headers (which carry credentials).
//
// Thread safety: Send may be called from many threads at once; connections
// are kept alive in a small pool of curl handles.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/sigv4.h"

namespace fb {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string_view body;  // must outlive Send()
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpOptions {
  long connect_timeout_ms = 10000;
  // A transfer that moves no byte (either way) for this long is a stall: an
  // error, so that the caller retries instead of hanging on a dead peer.
  long stall_timeout_ms = 30000;
  // Upper bound for a whole request; 0: none.
  long total_timeout_ms = 0;
  // Bodies larger than this are refused (protects memory); 0: no limit.
  uint64_t max_body_bytes = 0;
  // Connect directly even when a proxy is configured in the environment
  // (link-local endpoints such as the instance metadata service).
  bool no_proxy = false;
};

struct CurlApi;

// Loads libcurl from `soname` and looks up the functions HttpClient uses
// (HttpClient loads libcurl.so.4 once, on its first Send; exposed for tests).
Result<const CurlApi*> LoadCurlLibrary(const char* soname);

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport failures come back as kIoError with a message starting
  // "network error:" (IsTransientNetworkError).
  Result<HttpResponse> Send(const HttpRequest& request);
  const HttpOptions& options() const { return options_; }

 private:
  void* Acquire(const CurlApi& curl);
  void Release(const CurlApi& curl, void* handle);
  HttpOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;
};

bool IsTransientNetworkError(const Status& status);

}  // namespace fb
