// AWS Signature Version 4 for S3 requests, computed with OpenSSL.
//
// We sign ourselves instead of using libcurl's CURLOPT_AWS_SIGV4: the
// libcurl 7.88 in Debian 12 neither sorts nor re-encodes query parameters
// and signs valueless ones ("?uploads") wrongly, which S3 rejects. The rules
// here follow S3's flavour of SigV4: the path is used as given (already
// URI-encoded by the caller, never normalised), query names and values are
// encoded byte-wise (everything but A-Z a-z 0-9 - _ . ~ as %XX) and sorted,
// every header sent is signed except User-Agent and Expect (as botocore
// does), and x-amz-content-sha256 is always sent. tests/s3/ holds vectors
// made by botocore that these functions must match byte for byte.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/sha256.h"

namespace fb {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  int64_t expires_unix = 0;   // 0: does not expire
  std::string source;         // where they came from ("environment", "profile dev", ...)
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Raw (32-byte) HMAC-SHA256: common/sha256.h's HmacSha256.
// S3's URI encoding: every byte outside A-Za-z0-9-_.~ as %XX (upper-case
// hex); '/' kept when !encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash);
// "20261128T200000Z" for a Unix time.
std::string AmzDate(int64_t unix_time);
// Canonical query string: names and values encoded, sorted by name then
// value, "name=" for valueless parameters. Also usable as the URL's query.
std::string CanonicalQuery(const HeaderList& params);

struct SigV4Request {
  std::string method;          // "GET", "PUT", ...
  std::string host;            // Host header: "bucket.s3.eu-west-1.amazonaws.com" or "127.0.0.1:9000"
  std::string canonical_path;  // already encoded: "/bucket/a%20b" or "/a%20b"
  HeaderList query;            // raw (unencoded) names and values
  HeaderList headers;          // other headers to send and sign (Range, Content-Type, ...)
  std::string payload_hash;    // hex SHA-256 of the body, or kUnsignedPayload
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
  // Every header to send: Host, X-Amz-Date, X-Amz-Content-SHA256,
  // X-Amz-Security-Token (when set), the request's own, and Authorization.
  HeaderList headers;
};

SigV4Result SignV4(const SigV4Request& request, const AwsCredentials& credentials, std::string_view region,
                   std::string_view service, int64_t unix_time);

}  // namespace fb
