#include "storage/http_client.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace fb {

// libcurl's entry points, looked up in the library loaded at run time.
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_reset)(CURL* curl);
  void (*easy_cleanup)(CURL* curl);
  CURLcode (*easy_setopt)(CURL* curl, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* curl);
  CURLcode (*easy_getinfo)(CURL* curl, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

Result<const CurlApi*> LoadCurlLibrary(const char* soname) {
  auto missing = [soname](const std::string& why) {
    return Unsupported(std::string("HTTP transfers (s3:// URIs, cloud credentials) need libcurl (") + soname +
                       "), which cannot be loaded: " + why + "; install Debian's libcurl4 package");
  };
  // Never unloaded: handles and the global state live until the process ends.
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* e = ::dlerror();
    return missing(e ? e : "dlopen failed");
  }
  // Kept reachable for the life of the process (never freed, like the
  // library itself), so leak checkers see it held.
  static std::mutex loaded_mu;
  static auto* loaded = new std::vector<std::unique_ptr<CurlApi>>();
  auto* api = new CurlApi();
  const char* absent = nullptr;
  auto sym = [&](auto* fn, const char* name) {
    void* p = ::dlsym(lib, name);
    if (p == nullptr && absent == nullptr) absent = name;
    *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(p);
  };
  sym(&api->global_init, "curl_global_init");
  sym(&api->easy_init, "curl_easy_init");
  sym(&api->easy_reset, "curl_easy_reset");
  sym(&api->easy_cleanup, "curl_easy_cleanup");
  sym(&api->easy_setopt, "curl_easy_setopt");
  sym(&api->easy_perform, "curl_easy_perform");
  sym(&api->easy_getinfo, "curl_easy_getinfo");
  sym(&api->easy_strerror, "curl_easy_strerror");
  sym(&api->slist_append, "curl_slist_append");
  sym(&api->slist_free_all, "curl_slist_free_all");
  if (absent != nullptr) {
    delete api;
    ::dlclose(lib);
    return missing(std::string("it has no ") + absent);
  }

  if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    delete api;
    return missing("curl_global_init failed");
  }
  {
    std::lock_guard<std::mutex> lock(loaded_mu);
    loaded->emplace_back(api);
  }
  return static_cast<const CurlApi*>(api);
}

namespace {

constexpr std::string_view kNetworkError = "network error: ";
constexpr const char* kCurlSoname = "libcurl.so.4";

// Loaded once, on the first request: libcurl and the libraries it pulls in
// cost every process a share of its start-up time, and only HTTP transfers
// use them.
Result<const CurlApi*> Curl() {
  static std::once_flag once;
  static Result<const CurlApi*>* loaded = nullptr;
  std::call_once(once, [] { loaded = new Result<const CurlApi*>(LoadCurlLibrary(kCurlSoname)); });
  return *loaded;
}

struct Transfer {
  HttpResponse* response;
  std::string_view body;
  size_t sent = 0;
  uint64_t limit = 0;
  bool too_big = false;
  bool empty_partial = false;
  long stall_ms = 0;
  bool stalled = false;
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change;
};

int OnProgress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != t->last_bytes) {
    t->last_bytes = dlnow + ulnow;
    t->last_change = now;
    return 0;
  }
  if (now - t->last_change > std::chrono::milliseconds(t->stall_ms)) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->limit != 0 && t->response->body.size() + bytes > t->limit) {
    t->too_big = true;
    return 0;
  }
  t->response->body.append(data, bytes);
  return bytes;
}

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t k = std::min(size * n, t->body.size() - t->sent);
  std::copy_n(t->body.data() + t->sent, k, buf);
  t->sent += k;
  return k;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->response->headers.clear();  // a new response (after 100 Continue)
  if (line == "\r\n") {
    // "Content-Range: bytes 0-0/0" describes an empty object, which has no
    // bytes to send; s3rver still announces Content-Length: 1 and then sends
    // nothing, so stop at the end of the headers instead of waiting.
    auto it = t->response->headers.find("content-range");
    if (it != t->response->headers.end() && it->second.size() >= 2 &&
        it->second.compare(it->second.size() - 2, 2, "/0") == 0) {
      t->empty_partial = true;
      return 0;
    }
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    t->response->headers[name] = std::string(v);
  }
  return size * n;
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(options) {}

HttpClient::~HttpClient() {
  // Handles exist only once libcurl is loaded.
  for (void* h : idle_) (*Curl())->easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Acquire(const CurlApi& curl) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl.easy_init();
}

void HttpClient::Release(const CurlApi& curl, void* h) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 32) {
    idle_.push_back(h);
  } else {
    curl.easy_cleanup(static_cast<CURL*>(h));
  }
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  FB_ASSIGN_OR_RETURN(const CurlApi* api, Curl());
  const CurlApi& c = *api;
  CURL* curl = static_cast<CURL*>(Acquire(c));
  if (curl == nullptr) return IoError(std::string(kNetworkError) + "cannot create a curl handle");
  c.easy_reset(curl);
  HttpResponse resp;
  Transfer t;
  t.response = &resp;
  t.body = req.body;
  t.limit = options_.max_body_bytes;
  t.stall_ms = options_.stall_timeout_ms;
  t.last_change = std::chrono::steady_clock::now();
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) {
    if (k == "Host" || k == "host") continue;  // curl derives it from the URL, identically
    headers = c.slist_append(headers, (k + ": " + v).c_str());
  }
  // Never let curl add "Expect: 100-continue" (an extra round trip) nor a
  // Content-Type that we did not sign.
  headers = c.slist_append(headers, "Expect:");
  bool has_type = std::any_of(req.headers.begin(), req.headers.end(), [](const auto& h) {
    std::string n = h.first;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n == "content-type";
  });
  if (!has_type) headers = c.slist_append(headers, "Content-Type:");

  c.easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  c.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  c.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  c.easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
  c.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  c.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  c.easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  c.easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  c.easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  c.easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  c.easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  c.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  c.easy_setopt(curl, CURLOPT_USERAGENT, "forestbatch");
  if (options_.no_proxy) c.easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (req.method == "HEAD") {
    c.easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    c.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    c.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "PUT" || req.method == "POST") {
      c.easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      c.easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
      c.easy_setopt(curl, CURLOPT_READDATA, &t);
      c.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  CURLcode rc = c.easy_perform(curl);
  c.slist_free_all(headers);
  if (rc != CURLE_OK && t.empty_partial) {
    c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
    c.easy_cleanup(curl);
    resp.body.clear();
    return resp;
  }
  if (rc != CURLE_OK) {
    c.easy_cleanup(curl);  // a broken connection is not worth keeping
    if (t.too_big) return IoError("response body larger than " + std::to_string(t.limit) + " bytes");
    if (t.stalled) {
      return IoError(std::string(kNetworkError) + "no data moved for " + std::to_string(t.stall_ms) + " ms");
    }
    return IoError(std::string(kNetworkError) + c.easy_strerror(rc));
  }
  c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  Release(c, curl);
  return resp;
}

bool IsTransientNetworkError(const Status& s) {
  return s.code() == StatusCode::kIoError && s.message().rfind(kNetworkError, 0) == 0;
}

}  // namespace fb
