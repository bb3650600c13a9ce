#include "storage/sigv4.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace fb {
namespace {

TEST(SigV4Test, Primitives) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(UriEncode("a b/+=%~é", false), "a%20b/%2B%3D%25~%C3%A9");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"prefix", "a b"}, {"list-type", "2"}, {"continuation-token", "x/y+="}}),
            "continuation-token=x%2Fy%2B%3D&list-type=2&prefix=a%20b");
}

// The "GET Object" example of AWS's S3 SigV4 documentation.
TEST(SigV4Test, AwsDocumentationExample) {
  SigV4Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.canonical_path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  r.payload_hash = Sha256Hex("");
  AwsCredentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0, ""};
  SigV4Result s = SignV4(r, c, "us-east-1", "s3", 1369353600);
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// Every case of tests/s3/sigv4_vectors.json (signed by botocore's
// S3SigV4Auth, see make_sigv4_vectors.py) byte for byte.
TEST(SigV4Test, MatchesBotocoreVectors) {
  std::ifstream in(std::string(FB_SOURCE_DIR) + "/tests/s3/sigv4_vectors.json");
  ASSERT_TRUE(in) << "missing tests/s3/sigv4_vectors.json";
  nlohmann::json table = nlohmann::json::parse(in);
  const int64_t now = table["unix_time"].get<int64_t>();
  int cases = 0;
  for (const auto& c : table["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SigV4Request r;
    r.method = c["method"];
    r.host = c["host"];
    const std::string bucket = c["bucket"], key = c["key"];
    r.canonical_path = bucket.empty()
                           ? "/" + UriEncode(key, false)
                           : "/" + UriEncode(bucket, true) + (key.empty() ? "" : "/" + UriEncode(key, false));
    EXPECT_EQ(r.canonical_path, c["path"].get<std::string>());
    for (const auto& q : c["query"]) r.query.emplace_back(q[0], q[1]);
    for (const auto& h : c["headers"]) r.headers.emplace_back(h[0], h[1]);
    r.payload_hash = c["payload_hash"];
    AwsCredentials creds{table["access_key_id"], table["secret_access_key"], c["session_token"], 0, ""};
    SigV4Result s = SignV4(r, creds, c["region"].get<std::string>(), "s3", now);
    EXPECT_EQ(s.canonical_request, c["canonical_request"].get<std::string>());
    EXPECT_EQ(s.authorization, c["authorization"].get<std::string>());
    bool has_token = false;
    for (const auto& [k, v] : s.headers) has_token |= k == "X-Amz-Security-Token" && v == creds.session_token;
    EXPECT_EQ(has_token, !creds.session_token.empty());
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

}  // namespace
}  // namespace fb
