#include "storage/s3_client.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

namespace fb {
namespace {

bool DnsCompatible(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return b.front() != '-' && b.back() != '-';
}

Result<uint64_t> EnvNumber(const EnvLookup& env, const std::string& name, uint64_t dflt, uint64_t lo,
                           uint64_t hi) {
  auto v = env(name);
  if (!v) return dflt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v->c_str(), &end, 10);
  if (end == v->c_str() || *end != '\0' || n < lo || n > hi) {
    return InvalidArgument(name + " must be a whole number from " + std::to_string(lo) + " to " +
                           std::to_string(hi));
  }
  return static_cast<uint64_t>(n);
}

int64_t Jitter(int64_t max_ms) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return max_ms <= 0 ? 0 : std::uniform_int_distribution<int64_t>(0, max_ms)(rng);
}

bool Retryable(const HttpResponse& r) {
  // 501 NotImplemented (a header or operation the store does not know) is
  // final: asking again gets the same answer.
  if (r.status == 501) return false;
  if (r.status >= 500 || r.status == 429) return true;
  if (r.status == 400) {
    auto code = XmlTag(r.body, "Code");
    return code && (*code == "RequestTimeout" || *code == "SlowDown");
  }
  return false;
}

bool ExpiredToken(const HttpResponse& r) {
  if (r.status != 400 && r.status != 403) return false;
  auto code = XmlTag(r.body, "Code");
  return code && (*code == "ExpiredToken" || *code == "TokenRefreshRequired" || *code == "RequestExpired");
}

}  // namespace

Result<S3Options> S3Options::FromEnv(const EnvLookup& env) {
  S3Options o;
  o.region = ResolveRegion(env);
  o.endpoint = ResolveEndpoint(env);
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (!o.endpoint.empty() && o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0) {
    return InvalidArgument("the S3 endpoint URL must start with http:// or https://: " + o.endpoint);
  }
  FB_ASSIGN_OR_RETURN(uint64_t attempts, EnvNumber(env, "FB_S3_MAX_ATTEMPTS", 6, 1, 100));
  FB_ASSIGN_OR_RETURN(uint64_t part_mb, EnvNumber(env, "FB_S3_PART_SIZE_MB", 8, 5, 5120));
  FB_ASSIGN_OR_RETURN(uint64_t chunk_mb, EnvNumber(env, "FB_S3_READ_CHUNK_MB", 8, 1, 1024));
  FB_ASSIGN_OR_RETURN(uint64_t parallel, EnvNumber(env, "FB_S3_READ_PARALLEL", 4, 1, 64));
  FB_ASSIGN_OR_RETURN(uint64_t stall, EnvNumber(env, "FB_S3_STALL_TIMEOUT_S", 30, 1, 3600));
  o.max_attempts = static_cast<int>(attempts);
  o.part_size = part_mb << 20;
  o.read_chunk = chunk_mb << 20;
  o.read_parallel = static_cast<int>(parallel);
  o.http.stall_timeout_ms = static_cast<long>(stall) * 1000;
  return o;
}

Result<S3Location> ParseS3Uri(const std::string& uri) {
  if (uri.rfind("s3://", 0) != 0) return InvalidArgument("not an s3:// URI").At(uri);
  std::string rest = uri.substr(5);
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) loc.key = rest.substr(slash + 1);
  if (loc.bucket.empty()) return InvalidArgument("s3:// URI without a bucket").At(uri);
  return loc;
}

S3Client::S3Client(S3Options options, std::shared_ptr<AwsCredentialsProvider> credentials)
    : options_(std::move(options)), credentials_(std::move(credentials)), http_(options_.http) {}

std::string S3Client::Url(const S3Request& r, std::string* host, std::string* path) const {
  std::string base;
  const std::string key_path = UriEncode(r.loc.key, false);
  if (!options_.endpoint.empty() || !DnsCompatible(r.loc.bucket)) {
    base = options_.endpoint.empty() ? "https://s3." + options_.region + ".amazonaws.com" : options_.endpoint;
    *path = "/" + UriEncode(r.loc.bucket, true);
    if (!r.loc.key.empty()) *path += "/" + key_path;
  } else {
    base = "https://" + r.loc.bucket + ".s3." + options_.region + ".amazonaws.com";
    *path = "/" + key_path;
  }
  size_t scheme_end = base.find("://") + 3;
  size_t path_start = base.find('/', scheme_end);
  *host =
      base.substr(scheme_end, path_start == std::string::npos ? std::string::npos : path_start - scheme_end);
  // The Host header omits default ports, as curl sends it.
  bool https = base.rfind("https://", 0) == 0;
  const std::string dflt = https ? ":443" : ":80";
  if (host->size() > dflt.size() && host->compare(host->size() - dflt.size(), dflt.size(), dflt) == 0) {
    host->resize(host->size() - dflt.size());
  }
  std::string prefix_path = path_start == std::string::npos ? "" : base.substr(path_start);
  *path = prefix_path + *path;
  std::string url = base.substr(0, path_start == std::string::npos ? base.size() : path_start) + *path;
  std::string q = CanonicalQuery(r.query);
  if (!q.empty()) url += "?" + q;
  return url;
}

Result<HttpResponse> S3Client::Send(const S3Request& r, const std::string& uri) {
  SigV4Request sreq;
  sreq.method = r.method;
  sreq.query = r.query;
  sreq.headers = r.headers;
  sreq.payload_hash = r.hash_body ? Sha256Hex(r.body) : std::string(kUnsignedPayload);
  HttpRequest hreq;
  hreq.method = r.method;
  hreq.url = Url(r, &sreq.host, &sreq.canonical_path);
  hreq.body = r.body;

  bool refreshed = false;
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      ++retries_;
      int64_t cap = std::min<int64_t>(options_.max_backoff_ms, static_cast<int64_t>(options_.base_backoff_ms)
                                                                   << std::min(attempt - 1, 20));
      std::this_thread::sleep_for(std::chrono::milliseconds(Jitter(cap)));
    }
    auto creds = credentials_->Get();
    if (!creds.ok()) return std::move(creds).take_status().WithPath(uri);
    SigV4Result signed_req = SignV4(sreq, *creds, options_.region, "s3", std::time(nullptr));
    hreq.headers = std::move(signed_req.headers);
    auto resp = http_.Send(hreq);
    if (!resp.ok()) {
      last = std::move(resp).take_status();
      if (IsTransientNetworkError(last)) continue;
      return last.At(uri);
    }
    if (ExpiredToken(*resp) && !refreshed) {
      refreshed = true;
      credentials_->Invalidate();
      --attempt;
      continue;
    }
    if (Retryable(*resp)) {
      last = ErrorFor(*resp, r.method, uri);
      continue;
    }
    return resp;
  }
  return Status(last.code(),
                "gave up after " + std::to_string(options_.max_attempts) + " attempts: " + last.message())
      .At(uri);
}

Status S3Client::ErrorFor(const HttpResponse& resp, const std::string& what, const std::string& uri) {
  std::string code = XmlTag(resp.body, "Code").value_or("");
  std::string msg = XmlTag(resp.body, "Message").value_or("");
  std::string detail = "HTTP " + std::to_string(resp.status) + (code.empty() ? "" : " " + code) +
                       (msg.empty() ? "" : ": " + msg);
  if (resp.status == 404 || code == "NoSuchKey" || code == "NoSuchBucket") {
    if (code == "NoSuchBucket") {
      auto loc = ParseS3Uri(uri);
      return NotFound("no such bucket '" + (loc.ok() ? loc->bucket : uri) + "' (" + detail + ")").At(uri);
    }
    return NotFound("no such object (" + detail + ")").At(uri);
  }
  if (resp.status == 403) return IoError("access denied by S3 (" + detail + ")").At(uri);
  if (resp.status == 301 || resp.status == 307 || code == "PermanentRedirect" ||
      code == "AuthorizationHeaderMalformed") {
    std::string region = resp.Header("x-amz-bucket-region");
    return IoError("the bucket is in another region" + (region.empty() ? "" : " (" + region + ")") +
                   "; set AWS_REGION (" + detail + ")")
        .At(uri);
  }
  return IoError("S3 " + what + " failed (" + detail + ")").At(uri);
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out.push_back('&');
    else if (ent == "lt")
      out.push_back('<');
    else if (ent == "gt")
      out.push_back('>');
    else if (ent == "quot")
      out.push_back('"');
    else if (ent == "apos")
      out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      unsigned long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                             ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                             : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
      // UTF-8 encode.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> XmlTag(std::string_view xml, std::string_view tag, size_t from, size_t* next) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t b = xml.find(open, from);
  if (b == std::string_view::npos) return std::nullopt;
  size_t e = xml.find(close, b + open.size());
  if (e == std::string_view::npos) return std::nullopt;
  if (next) *next = e + close.size();
  return XmlUnescape(xml.substr(b + open.size(), e - b - open.size()));
}

}  // namespace fb
