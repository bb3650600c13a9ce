#include "runner/spot_notice.h"

#include <fmt/format.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "storage/http_client.h"

namespace fb {
namespace {

// One IMDS request (no body), straight to the endpoint: IMDS is link-local,
// never reached through a proxy.
Result<HttpResponse> Imds(const SpotNoticeOptions& o, const std::string& method, const std::string& path,
                          HeaderList headers) {
  const long ms = static_cast<long>(o.request_timeout.count());
  HttpClient http(HttpOptions{ms, ms, ms, 1 << 16, /*no_proxy=*/true});
  HttpRequest req;
  req.method = method;
  req.url = o.endpoint + path;
  req.headers = std::move(headers);
  auto r = http.Send(req);
  if (!r.ok()) return std::move(r).take_status().Prefix(fmt::format("{} {}", method, req.url));
  return r;
}

}  // namespace

Result<std::optional<SpotNoticeOptions>> SpotNoticeConfig(const std::string& mode_flag,
                                                          const std::string& endpoint_flag,
                                                          const GetEnv& getenv_in) {
  GetEnv env = getenv_in ? getenv_in : GetEnv([](const char* n) { return std::getenv(n); });
  auto env_or = [&env](const char* name) {
    const char* v = env(name);
    return std::string(v ? v : "");
  };
  std::string mode = mode_flag.empty() ? env_or("FORESTBATCH_SPOT_NOTICE") : mode_flag;
  if (mode.empty()) mode = "auto";
  std::string endpoint = endpoint_flag.empty() ? env_or("FORESTBATCH_SPOT_ENDPOINT") : endpoint_flag;
  if (mode != "auto" && mode != "on" && mode != "off") {
    return InvalidArgument(fmt::format("--spot-notice '{}': use auto, on or off", mode));
  }
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return InvalidArgument(fmt::format("--spot-endpoint '{}' must start with http:// or https://", endpoint));
  }
  if (mode == "off") return std::optional<SpotNoticeOptions>();
  if (mode == "auto" && endpoint.empty() && env_or("AWS_BATCH_JOB_ID").empty()) {
    return std::optional<SpotNoticeOptions>();
  }
  SpotNoticeOptions o;
  std::string poll_ms = env_or("FORESTBATCH_SPOT_POLL_MS");
  if (!poll_ms.empty()) {
    char* end = nullptr;
    long ms = std::strtol(poll_ms.c_str(), &end, 10);
    if (*end != '\0' || ms < 10 || ms > 3600000) {
      return InvalidArgument(
          fmt::format("FORESTBATCH_SPOT_POLL_MS='{}': want milliseconds, 10 to 3600000", poll_ms));
    }
    o.poll_interval = std::chrono::milliseconds(ms);
  }
  if (!endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    o.endpoint = endpoint;
  }
  return std::optional<SpotNoticeOptions>(o);
}

Result<std::optional<SpotNotice>> CheckSpotNotice(const SpotNoticeOptions& o, std::string& token) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (token.empty()) {
      FB_ASSIGN_OR_RETURN(
          auto t, Imds(o, "PUT", "/latest/api/token",
                       {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(o.token_ttl_seconds)}}));
      if (t.status != 200 || t.body.empty()) {
        return IoError(fmt::format("IMDS token request answered HTTP {}", t.status));
      }
      token = t.body;
    }
    FB_ASSIGN_OR_RETURN(auto a, Imds(o, "GET", "/latest/meta-data/spot/instance-action",
                                     {{"X-aws-ec2-metadata-token", token}}));
    if (a.status == 404) return std::optional<SpotNotice>();
    if (a.status == 401) {  // the token expired: get a new one, once
      token.clear();
      continue;
    }
    if (a.status != 200) return IoError(fmt::format("IMDS spot/instance-action answered HTTP {}", a.status));
    auto j = nlohmann::json::parse(a.body, nullptr, false);
    SpotNotice n;
    if (j.is_object()) {
      if (j.contains("action") && j["action"].is_string()) n.action = j["action"].get<std::string>();
      if (j.contains("time") && j["time"].is_string()) n.time = j["time"].get<std::string>();
    }
    if (n.action.empty()) n.action = "terminate";  // a 200 is a notice even if its body is odd
    return std::optional<SpotNotice>(n);
  }
  return IoError("IMDS rejected a fresh token");
}

SpotNoticeWatcher::SpotNoticeWatcher(SpotNoticeOptions options,
                                     std::function<void(const SpotNotice&)> on_notice)
    : options_(std::move(options)), on_notice_(std::move(on_notice)) {
  thread_ = std::thread([this] { Loop(); });
}

SpotNoticeWatcher::~SpotNoticeWatcher() { Stop(); }

void SpotNoticeWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<SpotNotice> SpotNoticeWatcher::notice() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notice_;
}

std::string SpotNoticeWatcher::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void SpotNoticeWatcher::Loop() {
  std::string token;
  for (;;) {
    auto r = CheckSpotNotice(options_, token);
    polls_.fetch_add(1);
    std::optional<SpotNotice> seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!r.ok()) {
        last_error_ = r.status().ToString();
      } else if (r->has_value()) {
        notice_ = **r;
        seen = notice_;
      }
    }
    if (seen) {
      seen_.store(true, std::memory_order_release);
      if (on_notice_) on_notice_(*seen);
      return;  // a notice does not go away: stop polling
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, options_.poll_interval, [this] { return stop_; })) return;
  }
}

}  // namespace fb
