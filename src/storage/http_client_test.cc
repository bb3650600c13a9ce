// HttpClient's transport: libcurl, loaded when the first request is sent.
// (Requests themselves are tested over real HTTP in s3_storage_test.cc.)
#include "storage/http_client.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

TEST(HttpClientTest, LibcurlLoadsAtRunTime) {
  auto curl = LoadCurlLibrary("libcurl.so.4");
  ASSERT_TRUE(curl.ok()) << curl.status().ToString();
  EXPECT_NE(*curl, nullptr);
}

TEST(HttpClientTest, MissingLibcurlIsAClearError) {
  auto curl = LoadCurlLibrary("libcurl-not-installed.so.4");
  ASSERT_FALSE(curl.ok());
  EXPECT_EQ(curl.status().code(), StatusCode::kUnsupported);
  const std::string m = curl.status().message();
  EXPECT_NE(m.find("s3://"), std::string::npos) << m;
  EXPECT_NE(m.find("libcurl-not-installed.so.4"), std::string::npos) << m;
  EXPECT_NE(m.find("install Debian's libcurl4 package"), std::string::npos) << m;
  EXPECT_FALSE(IsTransientNetworkError(curl.status()));  // not worth retrying
}

TEST(HttpClientTest, ALibraryWithoutCurlsFunctionsIsRefused) {
  auto curl = LoadCurlLibrary("libz.so.1");
  ASSERT_FALSE(curl.ok());
  EXPECT_EQ(curl.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(curl.status().message().find("curl_global_init"), std::string::npos) << curl.status().message();
}

}  // namespace
}  // namespace fb
