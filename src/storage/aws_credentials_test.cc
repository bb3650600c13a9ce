#include "storage/aws_credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "storage/test_http_server.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

constexpr char kSecret[] = "SECRETvalue/doNotLeak+1234567890abcdefghi";
constexpr char kToken[] = "TOKENvalue/doNotLeakEither==";

EnvLookup Env(std::map<std::string, std::string> vars) {
  // No HOME: the real ~/.aws of the machine must not be read.
  vars.emplace("HOME", "/nonexistent-fb-home");
  if (!vars.count("AWS_EC2_METADATA_SERVICE_ENDPOINT")) vars.emplace("AWS_EC2_METADATA_DISABLED", "true");
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

std::string CredentialsJson(const std::string& id, const std::string& expiration) {
  return std::string(R"({"Code":"Success","AccessKeyId":")") + id + R"(","SecretAccessKey":")" + kSecret +
         R"(","Token":")" + kToken + R"(","Expiration":")" + expiration + R"("})";
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("fb_aws_" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

TEST(AwsCredentialsTest, EnvironmentFirst) {
  AwsCredentialsProvider p(Env({{"AWS_ACCESS_KEY_ID", "AKENV"},
                                {"AWS_SECRET_ACCESS_KEY", kSecret},
                                {"AWS_SESSION_TOKEN", kToken},
                                {"AWS_PROFILE", "missing-profile-is-not-read"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(c->source, "environment");
}

TEST(AwsCredentialsTest, HalfSetEnvironmentIsAnError) {
  AwsCredentialsProvider p(Env({{"AWS_ACCESS_KEY_ID", "AKENV"}}));
  EXPECT_EQ(p.Get().status().code(), StatusCode::kInvalidArgument);
}

TEST(AwsCredentialsTest, ProfilesFromSharedFiles) {
  TempDir dir;
  std::string creds =
      dir.Write("credentials",
                "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n"
                "[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=s2\naws_session_token = t2\n");
  std::string config = dir.Write("config",
                                 "[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-south-1\n"
                                 "endpoint_url = http://127.0.0.1:1\n"
                                 "[profile cfgonly]\naws_access_key_id = AKCFG\naws_secret_access_key = s3\n"
                                 "[profile assume]\nrole_arn = arn:aws:iam::1:role/x\n");
  auto base = [&](std::string profile) {
    std::map<std::string, std::string> v{{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_CONFIG_FILE", config}};
    if (!profile.empty()) v["AWS_PROFILE"] = profile;
    return v;
  };
  {
    AwsCredentialsProvider p(Env(base("")));
    EXPECT_EQ(p.Get()->access_key_id, "AKDEFAULT");
    EXPECT_EQ(ResolveRegion(Env(base(""))), "eu-west-3");
  }
  {
    auto env = Env(base("dev"));
    AwsCredentialsProvider p(env);
    auto c = p.Get();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->access_key_id, "AKDEV");
    EXPECT_EQ(c->session_token, "t2");
    EXPECT_EQ(c->source, "profile dev");
    EXPECT_EQ(ResolveRegion(env), "ap-south-1");
    EXPECT_EQ(ResolveEndpoint(env), "http://127.0.0.1:1");
  }
  EXPECT_EQ(AwsCredentialsProvider(Env(base("cfgonly"))).Get()->access_key_id, "AKCFG");
  EXPECT_EQ(AwsCredentialsProvider(Env(base("nope"))).Get().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AwsCredentialsProvider(Env(base("assume"))).Get().status().code(), StatusCode::kUnsupported);
  // Environment variables win over the profile.
  auto v = base("dev");
  v["AWS_REGION"] = "us-west-2";
  v["AWS_DEFAULT_REGION"] = "us-west-1";
  v["AWS_ENDPOINT_URL"] = "http://generic";
  v["AWS_ENDPOINT_URL_S3"] = "http://s3-specific";
  EXPECT_EQ(ResolveRegion(Env(v)), "us-west-2");
  EXPECT_EQ(ResolveEndpoint(Env(v)), "http://s3-specific");
  EXPECT_EQ(ResolveRegion(Env({})), "us-east-1");
}

TEST(AwsCredentialsTest, ContainerRelativeUri) {
  std::atomic<int> hits{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    ++hits;
    TestHttpReply reply;
    if (r.path != "/v2/credentials/abc" || r.headers.count("authorization")) {
      reply.status = 404;
      return reply;
    }
    reply.body = CredentialsJson("AKCONTAINER", "2026-11-28T21:00:00Z");
    return reply;
  });
  int64_t now = *ParseIso8601("2026-11-28T20:00:00Z");
  AwsCredentialsProvider p(Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                {"FB_AWS_CONTAINER_CREDENTIALS_HOST", server.url()}}),
                           [&] { return now; });
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKCONTAINER");
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(c->expires_unix, *ParseIso8601("2026-11-28T21:00:00Z"));
  // Cached until 5 minutes before expiry, then fetched again.
  now += 50 * 60;
  EXPECT_TRUE(p.Get().ok());
  EXPECT_EQ(hits.load(), 1);
  now += 6 * 60;
  EXPECT_TRUE(p.Get().ok());
  EXPECT_EQ(hits.load(), 2);
  EXPECT_EQ(p.fetches(), 2);
}

TEST(AwsCredentialsTest, ContainerFullUriWithTokenFile) {
  TempDir dir;
  std::string token_file = dir.Write("token", "Bearer-abc\n");
  TestHttpServer server([&](const TestHttpRequest& r) {
    TestHttpReply reply;
    if (r.Header("authorization") != "Bearer-abc") {
      reply.status = 403;
      return reply;
    }
    reply.body = CredentialsJson("AKFULL", "2099-01-01T00:00:00Z");
    return reply;
  });
  auto c = AwsCredentialsProvider(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
                                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}}))
               .Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKFULL");
  auto plain = AwsCredentialsProvider(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
                                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer-abc"}}))
                   .Get();
  ASSERT_TRUE(plain.ok());
  auto denied =
      AwsCredentialsProvider(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"}})).Get();
  EXPECT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("403"), std::string::npos);
  // Plain http to a non-local host would leak the token: refused.
  auto remote =
      AwsCredentialsProvider(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}})).Get();
  EXPECT_EQ(remote.status().code(), StatusCode::kInvalidArgument);
}

TEST(AwsCredentialsTest, InstanceMetadataV2) {
  std::atomic<int> token_puts{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    TestHttpReply reply;
    if (r.method == "PUT" && r.path == "/latest/api/token") {
      ++token_puts;
      if (r.Header("x-aws-ec2-metadata-token-ttl-seconds").empty()) reply.status = 400;
      reply.body = "imds-token";
      return reply;
    }
    if (r.Header("x-aws-ec2-metadata-token") != "imds-token") {
      reply.status = 401;
      return reply;
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/") {
      reply.body = "my-role";
    } else if (r.path == "/latest/meta-data/iam/security-credentials/my-role") {
      reply.body = CredentialsJson("AKIMDS", "2026-11-28T21:00:00Z");
    } else {
      reply.status = 404;
    }
    return reply;
  });
  auto c = AwsCredentialsProvider(Env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url() + "/"}})).Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIMDS");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(token_puts.load(), 1);
}

TEST(AwsCredentialsTest, NothingFoundAndSecretsNeverInErrors) {
  auto none = AwsCredentialsProvider(Env({})).Get();
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  // A malformed document that contains the secret must not be quoted.
  TestHttpServer server([&](const TestHttpRequest&) {
    TestHttpReply reply;
    reply.body = std::string("{\"AccessKeyId\": 5, \"SecretAccessKey\": \"") + kSecret + "\"}";
    return reply;
  });
  auto bad = AwsCredentialsProvider(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c"},
                                         {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kToken}}))
                 .Get();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString().find(kSecret), std::string::npos);
  EXPECT_EQ(bad.status().ToString().find(kToken), std::string::npos);
}

TEST(AwsCredentialsTest, NoCredentialsSaysWhereItLooked) {
  // Instance metadata that refuses (a container kept from IMDS answers 403),
  // then one without an IAM role: "no credentials", not an HTTP error.
  for (int status : {403, 404}) {
    TestHttpServer server([&](const TestHttpRequest& r) {
      TestHttpReply reply;
      if (r.method == "PUT") {
        reply.status = status == 403 ? 403 : 200;
        reply.body = "imds-token";
      } else {
        reply.status = 404;
      }
      return reply;
    });
    auto none = AwsCredentialsProvider(Env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}})).Get();
    ASSERT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().ToString();
    const std::string m = none.status().message();
    EXPECT_EQ(m.rfind("no AWS credentials found (looked in: the environment (AWS_ACCESS_KEY_ID", 0), 0u) << m;
    EXPECT_NE(m.find("profile 'default' in /nonexistent-fb-home/.aws/credentials and "
                     "/nonexistent-fb-home/.aws/config"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI: not set)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("EC2 instance metadata at " + server.url() +
                     (status == 403 ? " (its token request answered HTTP 403))"
                                    : " (this instance has no IAM role))")),
              std::string::npos)
        << m;
  }
  auto off = AwsCredentialsProvider(Env({})).Get();
  EXPECT_NE(off.status().message().find("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED))"),
            std::string::npos)
      << off.status().ToString();
}

TEST(AwsCredentialsTest, ParsesExpirationTimes) {
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:01:00Z"), 60);
  EXPECT_EQ(*ParseIso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:10.123Z"), 10);
  EXPECT_FALSE(ParseIso8601("tomorrow"));
}

}  // namespace
}  // namespace fb
