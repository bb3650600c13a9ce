#include "storage/aws_credentials.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace fb {
namespace {

constexpr int64_t kRefreshMarginS = 300;

using Ini = std::map<std::string, std::map<std::string, std::string>>;

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A missing file is an empty Ini. Nested (indented) settings are skipped.
Ini ReadIni(const std::string& path) {
  Ini ini;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    ini[section][Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return ini;
}

std::string Home(const EnvLookup& env) { return env("HOME").value_or(""); }

std::string ProfileName(const EnvLookup& env) {
  if (auto p = env("AWS_PROFILE")) return *p;
  if (auto p = env("AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}

std::string CredentialsFile(const EnvLookup& env) {
  return env("AWS_SHARED_CREDENTIALS_FILE").value_or(Home(env) + "/.aws/credentials");
}

std::string ConfigFile(const EnvLookup& env) {
  return env("AWS_CONFIG_FILE").value_or(Home(env) + "/.aws/config");
}

const std::map<std::string, std::string>* ConfigSection(const Ini& ini, const std::string& profile) {
  auto it = ini.find("profile " + profile);
  if (it == ini.end() && profile == "default") it = ini.find("default");
  return it == ini.end() ? nullptr : &it->second;
}

const std::map<std::string, std::string>* CredentialsSection(const Ini& ini, const std::string& profile) {
  auto it = ini.find(profile);
  return it == ini.end() ? nullptr : &it->second;
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>* s, const std::string& key) {
  if (s == nullptr) return std::nullopt;
  auto it = s->find(key);
  if (it == s->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} as served by the
// container and instance metadata endpoints. The body is never quoted in
// errors: it holds secrets.
Result<AwsCredentials> ParseCredentialsJson(const std::string& body, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("AccessKeyId") || !j.contains("SecretAccessKey") ||
      !j["AccessKeyId"].is_string() || !j["SecretAccessKey"].is_string()) {
    return IoError("malformed credentials document from " + source);
  }
  AwsCredentials c;
  c.access_key_id = j["AccessKeyId"].get<std::string>();
  c.secret_access_key = j["SecretAccessKey"].get<std::string>();
  if (j.contains("Token") && j["Token"].is_string()) c.session_token = j["Token"].get<std::string>();
  if (j.contains("Expiration") && j["Expiration"].is_string()) {
    auto t = ParseIso8601(j["Expiration"].get<std::string>());
    if (!t) return IoError("malformed Expiration in credentials from " + source);
    c.expires_unix = *t;
  }
  c.source = source;
  return c;
}

// Sends with a few quick retries: metadata endpoints are local and either
// answer at once or are absent.
Result<HttpResponse> SendQuick(HttpClient& http, const HttpRequest& req, int attempts) {
  Result<HttpResponse> r = IoError("not sent");
  for (int i = 0; i < attempts; ++i) {
    r = http.Send(req);
    if (r.ok() && r->status < 500) return r;
    if (i + 1 < attempts) std::this_thread::sleep_for(std::chrono::milliseconds(100 << i));
  }
  return r;
}

bool AllowedContainerHost(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return true;
  if (url.rfind("http://", 0) != 0) return false;
  std::string rest = url.substr(7);
  std::string host = rest.substr(0, rest.find_first_of("/?"));
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

Result<std::optional<AwsCredentials>> FromContainer(const EnvLookup& env, HttpClient& http) {
  std::string url;
  if (auto rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = env("FB_AWS_CONTAINER_CREDENTIALS_HOST").value_or("http://169.254.170.2") + *rel;
  } else if (auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    if (!AllowedContainerHost(url)) {
      return InvalidArgument(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback/ECS/EKS address");
    }
  } else {
    return std::optional<AwsCredentials>();
  }
  HttpRequest req;
  req.url = url;
  if (auto file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*file);
    if (!in) return IoError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").At(*file);
    std::stringstream ss;
    ss << in.rdbuf();
    req.headers.emplace_back("Authorization", Trim(ss.str()));
  } else if (auto token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    req.headers.emplace_back("Authorization", *token);
  }
  FB_ASSIGN_OR_RETURN(HttpResponse resp, SendQuick(http, req, 3));
  if (resp.status != 200) {
    return IoError("container credentials endpoint answered HTTP " + std::to_string(resp.status)).At(url);
  }
  FB_ASSIGN_OR_RETURN(AwsCredentials c, ParseCredentialsJson(resp.body, "container credentials endpoint"));
  return std::optional<AwsCredentials>(std::move(c));
}

// Instance metadata (IMDSv2). nullopt, with what was found in `*seen`, when
// it has no credentials to give: disabled, not reachable (not on EC2), a
// request refused (a container or a hop limit that keeps IMDS out answers
// 403/401), or no IAM role. Errors only for a role whose credentials cannot
// be had or read.
Result<std::optional<AwsCredentials>> FromImds(const EnvLookup& env, HttpClient& http, std::string* seen) {
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto disabled = env("AWS_EC2_METADATA_DISABLED");
  if (disabled && (*disabled == "true" || *disabled == "TRUE" || *disabled == "1")) {
    *seen = "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)";
    return std::optional<AwsCredentials>();
  }
  *seen = "EC2 instance metadata at " + base;
  HttpRequest token_req;
  token_req.method = "PUT";
  token_req.url = base + "/latest/api/token";
  token_req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto token = SendQuick(http, token_req, 2);
  if (!token.ok()) {
    *seen += " (not reachable: not on EC2)";
    return std::optional<AwsCredentials>();
  }
  if (token->status != 200) {
    *seen += " (its token request answered HTTP " + std::to_string(token->status) + ")";
    return std::optional<AwsCredentials>();
  }
  const std::string tok = Trim(token->body);
  HttpRequest role_req;
  role_req.url = base + "/latest/meta-data/iam/security-credentials/";
  role_req.headers.emplace_back("X-aws-ec2-metadata-token", tok);
  FB_ASSIGN_OR_RETURN(HttpResponse role, SendQuick(http, role_req, 2));
  std::string name = role.status == 200 ? Trim(role.body.substr(0, role.body.find('\n'))) : std::string();
  if (role.status == 404 || (role.status == 200 && name.empty())) {
    *seen += " (this instance has no IAM role)";
    return std::optional<AwsCredentials>();
  }
  if (role.status != 200) {
    *seen += " (its IAM role request answered HTTP " + std::to_string(role.status) + ")";
    return std::optional<AwsCredentials>();
  }
  HttpRequest cred_req;
  cred_req.url = role_req.url + UriEncode(name, true);
  cred_req.headers = role_req.headers;
  FB_ASSIGN_OR_RETURN(HttpResponse cred, SendQuick(http, cred_req, 2));
  if (cred.status != 200) {
    return IoError("instance metadata credentials request answered HTTP " + std::to_string(cred.status));
  }
  FB_ASSIGN_OR_RETURN(AwsCredentials c,
                      ParseCredentialsJson(cred.body, "instance metadata (role " + name + ")"));
  return std::optional<AwsCredentials>(std::move(c));
}

Result<std::optional<AwsCredentials>> FromProfile(const EnvLookup& env) {
  const std::string profile = ProfileName(env);
  Ini creds = ReadIni(CredentialsFile(env));
  Ini config = ReadIni(ConfigFile(env));
  const auto* cs = CredentialsSection(creds, profile);
  const auto* cf = ConfigSection(config, profile);
  for (const auto* s : {cs, cf}) {
    auto id = Lookup(s, "aws_access_key_id");
    auto secret = Lookup(s, "aws_secret_access_key");
    if (id && secret) {
      AwsCredentials c;
      c.access_key_id = *id;
      c.secret_access_key = *secret;
      c.session_token = Lookup(s, "aws_session_token").value_or("");
      c.source = "profile " + profile;
      return std::optional<AwsCredentials>(std::move(c));
    }
  }
  if (cs == nullptr && cf == nullptr && (env("AWS_PROFILE") || env("AWS_DEFAULT_PROFILE"))) {
    return NotFound("AWS profile '" + profile + "' is not in " + CredentialsFile(env) + " or " +
                    ConfigFile(env));
  }
  if (Lookup(cf, "role_arn") || Lookup(cf, "credential_process") || Lookup(cf, "sso_start_url") ||
      Lookup(cf, "sso_session")) {
    return Unsupported("AWS profile '" + profile +
                       "' uses role_arn, credential_process or SSO, which forestbatch does not support; "
                       "export temporary keys (aws configure export-credentials) instead");
  }
  return std::optional<AwsCredentials>();
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

std::optional<std::string> ProfileSetting(const EnvLookup& env, const std::string& key) {
  const std::string profile = ProfileName(env);
  Ini config = ReadIni(ConfigFile(env));
  if (auto v = Lookup(ConfigSection(config, profile), key)) return v;
  Ini creds = ReadIni(CredentialsFile(env));
  return Lookup(CredentialsSection(creds, profile), key);
}

std::string ResolveRegion(const EnvLookup& env) {
  if (auto r = env("AWS_REGION")) return *r;
  if (auto r = env("AWS_DEFAULT_REGION")) return *r;
  if (auto r = ProfileSetting(env, "region")) return *r;
  return "us-east-1";
}

std::string ResolveEndpoint(const EnvLookup& env) {
  if (auto e = env("AWS_ENDPOINT_URL_S3")) return *e;
  if (auto e = env("AWS_ENDPOINT_URL")) return *e;
  if (auto e = ProfileSetting(env, "endpoint_url")) return *e;
  return "";
}

std::optional<int64_t> ParseIso8601(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t t = timegm(&tm);
  // An explicit offset such as "+02:00" (AWS sends Z, but be exact).
  size_t tpos = s.find('T');
  size_t off = s.find_first_of("+-", tpos);
  if (off != std::string::npos) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + off + 1, "%2d:%2d", &oh, &om) >= 1) {
      int64_t delta = oh * 3600 + om * 60;
      t += s[off] == '+' ? -delta : delta;
    }
  }
  return t;
}

AwsCredentialsProvider::AwsCredentialsProvider(EnvLookup env, std::function<int64_t()> clock)
    : env_(std::move(env)), clock_(std::move(clock)), http_(HttpOptions{1000, 2000, 5000, 1 << 20}) {
  if (!clock_) {
    clock_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
  }
}

Result<AwsCredentials> AwsCredentialsProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_();
  if (cached_ && (cached_->expires_unix == 0 || now < cached_->expires_unix - kRefreshMarginS)) {
    return *cached_;
  }
  Result<AwsCredentials> fresh = Resolve();
  ++fetches_;
  if (!fresh.ok()) {
    // Keep using credentials that are still valid if a refresh fails.
    if (cached_ && now < cached_->expires_unix) return *cached_;
    return fresh;
  }
  cached_ = *fresh;
  return fresh;
}

void AwsCredentialsProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

int AwsCredentialsProvider::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

Result<AwsCredentials> AwsCredentialsProvider::Resolve() {
  auto id = env_("AWS_ACCESS_KEY_ID");
  auto secret = env_("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    AwsCredentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = env_("AWS_SESSION_TOKEN").value_or("");
    c.source = "environment";
    return c;
  }
  if (id || secret) {
    return InvalidArgument("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set");
  }
  FB_ASSIGN_OR_RETURN(auto profile, FromProfile(env_));
  if (profile) return *profile;
  FB_ASSIGN_OR_RETURN(auto container, FromContainer(env_, http_));
  if (container) return *container;
  std::string imds_seen;
  FB_ASSIGN_OR_RETURN(auto imds, FromImds(env_, http_, &imds_seen));
  if (imds) return *imds;
  return NotFound(
      "no AWS credentials found (looked in: the environment (AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY), profile '" +
      ProfileName(env_) + "' in " + CredentialsFile(env_) + " and " + ConfigFile(env_) +
      ", container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI: not set), " + imds_seen +
      ")");
}

}  // namespace fb
