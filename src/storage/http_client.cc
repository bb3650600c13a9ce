#include "storage/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace fb {
namespace {

constexpr std::string_view kNetworkError = "network error: ";

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

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

HttpClient::HttpClient(HttpOptions options) : options_(options) { static CurlGlobal global; }

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Release(void* h) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 32) {
    idle_.push_back(h);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(h));
  }
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return IoError(std::string(kNetworkError) + "cannot create a curl handle");
  curl_easy_reset(curl);
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
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  }
  // Never let curl add "Expect: 100-continue" (an extra round trip) nor a
  // Content-Type that we did not sign.
  headers = curl_slist_append(headers, "Expect:");
  bool has_type = std::any_of(req.headers.begin(), req.headers.end(), [](const auto& h) {
    std::string n = h.first;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n == "content-type";
  });
  if (!has_type) headers = curl_slist_append(headers, "Content-Type:");

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "forestbatch");
  if (options_.no_proxy) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "PUT" || req.method == "POST") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &t);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK && t.empty_partial) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_easy_cleanup(curl);
    resp.body.clear();
    return resp;
  }
  if (rc != CURLE_OK) {
    curl_easy_cleanup(curl);  // a broken connection is not worth keeping
    if (t.too_big) return IoError("response body larger than " + std::to_string(t.limit) + " bytes");
    if (t.stalled) {
      return IoError(std::string(kNetworkError) + "no data moved for " + std::to_string(t.stall_ms) + " ms");
    }
    return IoError(std::string(kNetworkError) + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  Release(curl);
  return resp;
}

bool IsTransientNetworkError(const Status& s) {
  return s.code() == StatusCode::kIoError && s.message().rfind(kNetworkError, 0) == 0;
}

}  // namespace fb
