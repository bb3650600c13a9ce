#include "storage/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace fb {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trims and collapses runs of spaces, as SigV4 asks for header values.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQuery(const HeaderList& params) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(params.size());
  for (const auto& [k, v] : params) enc.emplace_back(UriEncode(k, true), UriEncode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

SigV4Result SignV4(const SigV4Request& r, const AwsCredentials& c, std::string_view region,
                   std::string_view service, int64_t unix_time) {
  SigV4Result out;
  const std::string date = AmzDate(unix_time);
  const std::string day = date.substr(0, 8);

  out.headers.emplace_back("Host", r.host);
  out.headers.emplace_back("X-Amz-Date", date);
  out.headers.emplace_back("X-Amz-Content-SHA256", r.payload_hash);
  if (!c.session_token.empty()) out.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  for (const auto& h : r.headers) out.headers.push_back(h);

  // name -> values in order; multiple values are joined by ','.
  std::map<std::string, std::string> canon;
  for (const auto& [name, value] : out.headers) {
    std::string n = Lower(name);
    if (n == "user-agent" || n == "expect") continue;
    auto [it, fresh] = canon.emplace(n, CanonicalValue(value));
    if (!fresh) it->second += "," + CanonicalValue(value);
  }
  std::string header_block, signed_headers;
  for (const auto& [n, v] : canon) {
    header_block += n + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += n;
  }

  out.canonical_request = r.method + "\n" + (r.canonical_path.empty() ? "/" : r.canonical_path) + "\n" +
                          CanonicalQuery(r.query) + "\n" + header_block + "\n" + signed_headers + "\n" +
                          r.payload_hash;
  const std::string scope = day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + Sha256Hex(out.canonical_request);

  std::string k = HmacSha256("AWS4" + c.secret_access_key, day);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  const std::string sig = HmacSha256(k, out.string_to_sign);
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers +
                      ", Signature=" + Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
  out.headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace fb
