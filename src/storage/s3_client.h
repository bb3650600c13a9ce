// S3Client: signed, retried S3 requests (the layer under S3Storage).
//
// Addressing: with a custom endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL,
// e.g. MinIO, s3rver, LocalStack) requests are path-style
// (http://host:port/bucket/key); against AWS they are virtual-hosted
// (https://bucket.s3.REGION.amazonaws.com/key), except for bucket names that
// are not valid DNS labels (dots, upper case), which go path-style to
// https://s3.REGION.amazonaws.com so that TLS certificates match.
//
// Retries: transport failures (refused, reset, timeouts, stalled bodies),
// HTTP 5xx except 501 NotImplemented (503 SlowDown included), 429 and 400 RequestTimeout are retried
// up to max_attempts times with exponential backoff and full jitter
// (delay uniform in [0, min(max_backoff, base * 2^attempt)]). Expired
// temporary credentials are fetched again once. Other 4xx answers are final
// and mapped to clear errors naming the s3:// URI: 404 NoSuchKey/NoSuchBucket
// -> kNotFound, 403 -> kIoError "access denied", 301 -> wrong region.
//
// Thread safety: all methods may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/aws_credentials.h"
#include "storage/http_client.h"
#include "storage/sigv4.h"

namespace fb {

struct S3Options {
  std::string endpoint;  // "" = AWS; else "http(s)://host[:port]"
  std::string region = "us-east-1";
  int max_attempts = 6;
  int base_backoff_ms = 100;
  int max_backoff_ms = 10000;
  uint64_t part_size = 8ull << 20;   // multipart part size (5 MiB..5 GiB)
  uint64_t read_chunk = 8ull << 20;  // ranged GET size
  int read_parallel = 4;             // ranged GETs in flight per stream
  HttpOptions http;
  // Reads the AWS_* variables (region, endpoint) and the FB_S3_* tuning
  // variables documented in docs/s3.md.
  static Result<S3Options> FromEnv(const EnvLookup& env);
};

struct S3Location {
  std::string bucket;
  std::string key;
};

// "s3://bucket/key" -> {bucket, key}; key may be empty.
Result<S3Location> ParseS3Uri(const std::string& uri);

struct S3Request {
  std::string method = "GET";
  S3Location loc;
  HeaderList query;    // raw names and values
  HeaderList headers;  // extra headers (Range, If-Match, Content-Type)
  std::string_view body;
  bool hash_body = false;  // sign the body's SHA-256 instead of UNSIGNED-PAYLOAD
};

class S3Client {
 public:
  S3Client(S3Options options, std::shared_ptr<AwsCredentialsProvider> credentials);
  // Sends with signing and retries. Any final HTTP answer comes back as a
  // response (the caller decides what a 404 means); failures after the last
  // retry, and credential errors, come back as a Status naming `uri`.
  Result<HttpResponse> Send(const S3Request& request, const std::string& uri);
  // The Status for a final non-2xx answer, naming `uri`.
  static Status ErrorFor(const HttpResponse& response, const std::string& what, const std::string& uri);
  const S3Options& options() const { return options_; }
  // Retries performed so far (for tests).
  int retries() const { return retries_.load(); }

 private:
  std::string Url(const S3Request& r, std::string* host, std::string* path) const;
  S3Options options_;
  std::shared_ptr<AwsCredentialsProvider> credentials_;
  HttpClient http_;
  std::atomic<int> retries_{0};
};

// Tiny XML helpers for S3's flat answers.
std::string XmlUnescape(std::string_view s);
std::string XmlEscape(std::string_view s);
// The text of the first <tag>...</tag> at or after `from` (unescaped);
// *next (if given) is set past the closing tag; nullopt if absent.
std::optional<std::string> XmlTag(std::string_view xml, std::string_view tag, size_t from = 0,
                                  size_t* next = nullptr);

}  // namespace fb
