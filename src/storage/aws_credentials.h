// AWS credentials, region and endpoint found the way AWS SDKs find them.
//
// Credentials, first match wins:
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
//   2. shared files for profile AWS_PROFILE (default "default"):
//      AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then AWS_CONFIG_FILE
//      (~/.aws/config, sections "[profile NAME]" or "[default]")
//   3. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//      (http://169.254.170.2<uri>; the host can be replaced with
//      FB_AWS_CONTAINER_CREDENTIALS_HOST for tests) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback or
//      the ECS/EKS link-local address) with the Authorization header from
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN
//   4. EC2 instance metadata, IMDSv2 only (token PUT, then the role's
//      credentials); AWS_EC2_METADATA_SERVICE_ENDPOINT replaces
//      http://169.254.169.254; AWS_EC2_METADATA_DISABLED=true skips it.
// Temporary credentials (3 and 4, or files/env with a session token and no
// expiry) are cached and fetched again 5 minutes before they expire.
//
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's "region", else
// us-east-1. Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
// "endpoint_url", else AWS's.
//
// Secrets never appear in Status messages.
//
// Thread safety: AwsCredentialsProvider::Get may be called from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "storage/http_client.h"
#include "storage/sigv4.h"

namespace fb {

// Looks up an environment variable; nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnvironment();

// A setting of the selected profile in the config file (then the
// credentials file): "region", "endpoint_url", ...; nullopt when absent.
std::optional<std::string> ProfileSetting(const EnvLookup& env, const std::string& key);

std::string ResolveRegion(const EnvLookup& env);
// "" when AWS's own endpoint should be used.
std::string ResolveEndpoint(const EnvLookup& env);

// Parses "2026-11-28T21:00:00Z" (also with fractional seconds or +00:00).
std::optional<int64_t> ParseIso8601(const std::string& s);

class AwsCredentialsProvider {
 public:
  explicit AwsCredentialsProvider(EnvLookup env, std::function<int64_t()> clock = nullptr);
  // Cached credentials, fetched when missing or within 5 minutes of expiry.
  Result<AwsCredentials> Get();
  // Forgets the cache (after the server said the token expired).
  void Invalidate();
  // How many times the chain was resolved (for tests of the cache).
  int fetches() const;

 private:
  Result<AwsCredentials> Resolve();
  EnvLookup env_;
  std::function<int64_t()> clock_;
  HttpClient http_;
  mutable std::mutex mu_;
  std::optional<AwsCredentials> cached_;
  int fetches_ = 0;
};

}  // namespace fb
