// S3Storage against a loopback server that plays S3 (path-style), so that
// multipart, pagination, ranged reads, retries and error mapping are tested
// over real HTTP in the unit tests. tests/s3/ repeats the main paths against
// a real S3 implementation (s3rver) and the AWS CLI.
#include "storage/s3_storage.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "storage/test_http_server.h"

namespace fb {
namespace {

constexpr char kSecret[] = "SECRETs3test/doNotLeak+abcdefghijklmnop";
constexpr char kToken[] = "TOKENs3test/doNotLeak==";

std::string Etag(const std::string& body) { return "\"" + Sha256Hex(body).substr(0, 32) + "\""; }

TestHttpReply Error(int status, const std::string& code) {
  TestHttpReply r;
  r.status = status;
  r.body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m &amp; m</Message></Error>";
  return r;
}

// A small S3 over TestHttpServer: objects, ListObjectsV2 pages, ranged GETs,
// multipart uploads; `fault` may answer any request first.
class FakeS3 {
 public:
  std::function<std::optional<TestHttpReply>(const TestHttpRequest&)> fault;
  size_t page_size = 3;
  // `If-None-Match: *` on PUT: honoured (S3 since 2024), refused with 501
  // (older S3-compatible stores), or ignored (a gateway that drops it).
  enum class Conditional { kHonour, kNotImplemented, kIgnore } conditional = Conditional::kHonour;

  FakeS3() : server_([this](const TestHttpRequest& r) { return Handle(r); }) {}
  std::string url() const { return server_.url(); }
  int requests() const { return server_.requests(); }
  void Put(const std::string& key, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_["bkt/" + key] = std::move(body);
  }
  std::optional<std::string> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find("bkt/" + key);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  int aborted() {
    std::lock_guard<std::mutex> lock(mu_);
    return aborted_;
  }
  int completed_parts() {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_parts_;
  }
  int gets() { return gets_.load(); }
  std::string last_authorization() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_auth_;
  }

 private:
  TestHttpReply Handle(const TestHttpRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_auth_ = r.Header("authorization");
    }
    if (fault) {
      if (auto f = fault(r)) return *f;
    }
    const std::string sha = r.Header("x-amz-content-sha256");
    if (sha.empty() || r.Header("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKTEST/", 0) != 0 ||
        r.Header("x-amz-date").empty()) {
      return Error(403, "AccessDenied");
    }
    if (sha != "UNSIGNED-PAYLOAD" && sha != Sha256Hex(r.body)) return Error(400, "XAmzContentSHA256Mismatch");
    std::string path = PercentDecode(r.path.substr(1));
    std::string bucket = path.substr(0, path.find('/'));
    if (bucket != "bkt") return Error(404, "NoSuchBucket");
    std::lock_guard<std::mutex> lock(mu_);
    if (path == "bkt" && r.method == "GET") return List(r);
    if (r.method == "POST" && r.Has("uploads")) {
      std::string id = "up/" + std::to_string(++next_upload_) + "+=";
      uploads_[id];
      TestHttpReply reply;
      reply.body = "<InitiateMultipartUploadResult><UploadId>" + XmlEscape(id) +
                   "</UploadId></InitiateMultipartUploadResult>";
      return reply;
    }
    if (r.Has("uploadId")) {
      auto up = uploads_.find(r.params.at("uploadId"));
      if (up == uploads_.end()) return Error(404, "NoSuchUpload");
      TestHttpReply reply;
      if (r.method == "PUT") {
        up->second[std::stoi(r.params.at("partNumber"))] = r.body;
        reply.headers.emplace_back("ETag", Etag(r.body));
      } else if (r.method == "DELETE") {
        uploads_.erase(up);
        ++aborted_;
        reply.status = 204;
      } else {  // complete: parts listed in order, ETags must match
        std::string whole;
        size_t at = 0, next = 0;
        int n = 0;
        while (auto num = XmlTag(r.body, "PartNumber", at, &next)) {
          at = next;
          auto etag = XmlTag(r.body, "ETag", at, &next);
          at = next;
          const std::string& part = up->second[std::stoi(*num)];
          if (std::stoi(*num) != ++n || !etag || *etag != Etag(part)) return Error(400, "InvalidPart");
          whole += part;
        }
        completed_parts_ += n;
        objects_[path] = whole;
        uploads_.erase(up);
        reply.body = "<CompleteMultipartUploadResult><ETag>\"x\"</ETag></CompleteMultipartUploadResult>";
      }
      return reply;
    }
    TestHttpReply reply;
    auto it = objects_.find(path);
    if (r.method == "PUT") {
      if (r.Header("if-none-match") == "*") {
        if (conditional == Conditional::kNotImplemented) return Error(501, "NotImplemented");
        if (conditional == Conditional::kHonour && it != objects_.end())
          return Error(412, "PreconditionFailed");
      }
      objects_[path] = r.body;
      reply.headers.emplace_back("ETag", Etag(r.body));
      return reply;
    }
    if (r.method == "DELETE") {
      objects_.erase(path);
      reply.status = 204;
      return reply;
    }
    if (it == objects_.end()) return Error(404, "NoSuchKey");
    const std::string& body = it->second;
    reply.headers.emplace_back("ETag", Etag(body));
    reply.headers.emplace_back("Last-Modified", "Sat, 28 Nov 2026 20:00:00 GMT");
    if (r.method == "HEAD") {
      reply.headers.emplace_back("Content-Length", std::to_string(body.size()));
      return reply;
    }
    ++gets_;
    if (!r.Header("if-match").empty() && r.Header("if-match") != Etag(body))
      return Error(412, "PreconditionFailed");
    std::string range = r.Header("range");
    if (range.empty()) {
      reply.body = body;
      return reply;
    }
    uint64_t a = std::stoull(range.substr(6)), b = std::stoull(range.substr(range.find('-') + 1));
    if (a >= body.size()) return Error(416, "InvalidRange");
    b = std::min<uint64_t>(b, body.size() - 1);
    reply.status = 206;
    reply.body = body.substr(a, b - a + 1);
    reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                                                    std::to_string(body.size()));
    return reply;
  }

  TestHttpReply List(const TestHttpRequest& r) {
    if (r.params.count("list-type") == 0 || r.params.at("list-type") != "2")
      return Error(400, "InvalidArgument");
    const std::string prefix = r.params.count("prefix") ? r.params.at("prefix") : "";
    const std::string after = r.params.count("continuation-token") ? r.params.at("continuation-token") : "";
    std::string xml = "<ListBucketResult>";
    size_t n = 0;
    std::string last;
    bool truncated = false;
    for (auto it = objects_.upper_bound("bkt/" + after); it != objects_.end(); ++it) {
      std::string key = it->first.substr(4);
      if (it->first.rfind("bkt/", 0) != 0 || key.rfind(prefix, 0) != 0) continue;
      if (n == page_size) {
        truncated = true;
        break;
      }
      xml += "<Contents><Key>" + XmlEscape(key) +
             "</Key><LastModified>2026-11-28T20:00:00.000Z</LastModified><Size>" +
             std::to_string(it->second.size()) + "</Size></Contents>";
      last = key;
      ++n;
    }
    xml += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated) xml += "<NextContinuationToken>" + XmlEscape(last) + "</NextContinuationToken>";
    TestHttpReply reply;
    reply.body = xml + "</ListBucketResult>";
    return reply;
  }

  std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::map<std::string, std::map<int, std::string>> uploads_;
  int next_upload_ = 0;
  int aborted_ = 0;
  int completed_parts_ = 0;
  std::atomic<int> gets_{0};
  std::string last_auth_;
  TestHttpServer server_;
};

struct Fixture {
  FakeS3 s3;
  std::shared_ptr<S3Client> client;
  std::shared_ptr<Storage> storage;
  explicit Fixture(std::function<void(S3Options&)> tune = nullptr) {
    S3Options o;
    o.endpoint = s3.url();
    o.max_attempts = 4;
    o.base_backoff_ms = 1;
    o.max_backoff_ms = 5;
    o.part_size = 1000;
    o.read_chunk = 1000;
    o.read_parallel = 3;
    o.http.stall_timeout_ms = 300;
    if (tune) tune(o);
    EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
      if (n == "AWS_ACCESS_KEY_ID") return "AKTEST";
      if (n == "AWS_SECRET_ACCESS_KEY") return kSecret;
      if (n == "AWS_SESSION_TOKEN") return kToken;
      return std::nullopt;
    };
    client = std::make_shared<S3Client>(o, std::make_shared<AwsCredentialsProvider>(env));
    storage = NewS3Storage(client);
  }
};

std::string RandomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(S3StorageTest, ConditionalPutCreatesOnlyWhereNothingIs) {
  Fixture f;
  ASSERT_TRUE(f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "first").ok());
  Status again = f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.ToString().find("s3://bkt/claims/a.claim"), std::string::npos);
  EXPECT_EQ(*f.s3.Get("claims/a.claim"), "first");
  // A conflicting conditional write in flight (409) is another writer too.
  f.s3.fault = [](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (r.method != "PUT") return std::nullopt;
    TestHttpReply busy;
    busy.status = 409;
    busy.body = "<Error><Code>ConditionalRequestConflict</Code></Error>";
    return busy;
  };
  EXPECT_EQ(f.storage->WriteIfAbsent("s3://bkt/claims/b.claim", "x").code(), StatusCode::kAlreadyExists);
}

TEST(S3StorageTest, ConditionalPutRetriedAfterALostAnswerFindsItsOwnObject) {
  Fixture f;
  std::atomic<int> puts{0};
  f.s3.fault = [&](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (r.method != "PUT" || ++puts != 1) return std::nullopt;
    f.s3.Put("claims/a.claim", r.body);  // stored, then the answer is lost
    TestHttpReply lost;
    lost.status = 500;
    lost.body = "<Error><Code>InternalError</Code></Error>";
    return lost;
  };
  Status s = f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "mine");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);  // the retry meets its own object
  EXPECT_EQ(puts.load(), 2);
  EXPECT_EQ(*f.s3.Get("claims/a.claim"), "mine");  // callers compare contents (ClaimBook: tokens)
}

TEST(S3StorageTest, StoresWithoutConditionalPutAreUnsupportedOrLetThrough) {
  Fixture f;
  f.s3.conditional = FakeS3::Conditional::kNotImplemented;
  Status s = f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "x");
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_FALSE(f.s3.Get("claims/a.claim").has_value());
  // A store that ignores the header accepts both: only a probe can tell
  // (runner/claims.h ClaimBook::Probe).
  f.s3.conditional = FakeS3::Conditional::kIgnore;
  EXPECT_TRUE(f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "x").ok());
  EXPECT_TRUE(f.storage->WriteIfAbsent("s3://bkt/claims/a.claim", "y").ok());
}

TEST(S3StorageTest, RoundTripWithAwkwardKeys) {
  Fixture f;
  const std::string uri = "s3://bkt/dir one/a+b=c%~é.csv";
  ASSERT_TRUE(f.storage->WriteAll(uri, "hello").ok());
  EXPECT_EQ(*f.s3.Get("dir one/a+b=c%~é.csv"), "hello");
  auto got = f.storage->ReadAll(uri);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello");
  auto st = f.storage->Stat(uri);
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->size, 5u);
  EXPECT_EQ((*st)->relative, "a+b=c%~é.csv");
  EXPECT_GT((*st)->mtime_ns, 0);
  ASSERT_TRUE(f.storage->Delete(uri).ok());
  EXPECT_FALSE(f.s3.Get("dir one/a+b=c%~é.csv"));
  EXPECT_FALSE((*f.storage->Stat(uri)).has_value());
  EXPECT_TRUE(f.storage->Delete(uri).ok());  // already gone is fine
  // Empty objects read back empty.
  ASSERT_TRUE(f.storage->WriteAll("s3://bkt/empty", "").ok());
  EXPECT_EQ(*f.storage->ReadAll("s3://bkt/empty"), "");
}

TEST(S3StorageTest, MultipartUploadVisibleOnlyAfterCommit) {
  Fixture f;
  const std::string data = RandomBytes(3500);
  auto w = f.storage->OpenWrite("s3://bkt/out/big.bin");
  ASSERT_TRUE(w.ok());
  for (size_t i = 0; i < data.size(); i += 300) ASSERT_TRUE((*w)->Write(data.substr(i, 300)).ok());
  EXPECT_FALSE(f.s3.Get("out/big.bin"));
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(*f.s3.Get("out/big.bin"), data);
  EXPECT_EQ(f.s3.completed_parts(), 4);
  EXPECT_EQ(*f.storage->ReadAll("s3://bkt/out/big.bin"), data);
}

TEST(S3StorageTest, AbortAndDestructionAbortTheUpload) {
  Fixture f;
  auto w = f.storage->OpenWrite("s3://bkt/out/a.bin");
  ASSERT_TRUE((*w)->Write(RandomBytes(2500)).ok());
  (*w)->Abort();
  (*w)->Abort();
  EXPECT_EQ(f.s3.aborted(), 1);
  {
    auto w2 = f.storage->OpenWrite("s3://bkt/out/b.bin");
    ASSERT_TRUE((*w2)->Write(RandomBytes(1500)).ok());
  }
  EXPECT_EQ(f.s3.aborted(), 2);
  EXPECT_FALSE(f.s3.Get("out/a.bin"));
  EXPECT_FALSE(f.s3.Get("out/b.bin"));
}

TEST(S3StorageTest, FailedCompleteIsAnErrorAndAborts) {
  Fixture f;
  f.s3.fault = [](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (r.method == "POST" && r.Has("uploadId")) {
      TestHttpReply reply;  // S3 can report a failed completion in a 200
      reply.body = "<Error><Code>InternalError</Code><Message>try again</Message></Error>";
      return reply;
    }
    return std::nullopt;
  };
  auto w = f.storage->OpenWrite("s3://bkt/out/c.bin");
  ASSERT_TRUE((*w)->Write(RandomBytes(2500)).ok());
  Status st = (*w)->Commit();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.path(), "s3://bkt/out/c.bin");
  EXPECT_EQ(f.s3.aborted(), 1);
  EXPECT_FALSE(f.s3.Get("out/c.bin"));
}

TEST(S3StorageTest, ListFollowsContinuationTokens) {
  Fixture f;
  for (int i = 9; i >= 0; --i) f.s3.Put("in/f" + std::to_string(i) + (i % 2 ? ".csv" : " x+y.csv"), "abc");
  f.s3.Put("in/", "");  // a folder marker
  f.s3.Put("in/sub/z.csv", "zz");
  f.s3.Put("inx/other.csv", "no");
  auto list = f.storage->List("s3://bkt/in");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 11u);
  EXPECT_EQ((*list)[0].relative, "f0 x+y.csv");
  EXPECT_EQ((*list)[0].uri, "s3://bkt/in/f0 x+y.csv");
  EXPECT_EQ((*list)[0].size, 3u);
  EXPECT_GT((*list)[0].mtime_ns, 0);
  EXPECT_EQ((*list)[10].relative, "sub/z.csv");
  EXPECT_GE(f.s3.requests(), 4);  // 11 keys + marker in pages of 3
  auto one = f.storage->List("s3://bkt/inx/other.csv");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].relative, "other.csv");
  EXPECT_EQ(f.storage->List("s3://bkt/nothing/").status().code(), StatusCode::kNotFound);
  auto whole = f.storage->List("s3://bkt");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->size(), 12u);
}

TEST(S3StorageTest, ListsMoreThanAThousandKeys) {
  Fixture f;
  f.s3.page_size = 1000;  // as S3
  for (int i = 0; i < 2345; ++i) f.s3.Put("many/k" + std::to_string(100000 + i), "v");
  auto list = f.storage->List("s3://bkt/many/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2345u);
  EXPECT_EQ((*list)[0].relative, "k100000");
  EXPECT_EQ((*list)[2344].relative, "k102344");
  EXPECT_EQ(f.s3.requests(), 3);
}

TEST(S3StorageTest, ParallelRangedReadsInBoundedChunks) {
  Fixture f;
  const std::string data = RandomBytes(10500);
  f.s3.Put("in/big", data);
  auto in = f.storage->OpenRead("s3://bkt/in/big");
  ASSERT_TRUE(in.ok());
  std::string got;
  char buf[777];
  for (;;) {
    auto n = (*in)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(f.s3.gets(), 11);
}

TEST(S3StorageTest, ObjectReplacedMidReadIsAnError) {
  Fixture f;
  f.s3.Put("in/big", RandomBytes(5000));
  auto in = f.storage->OpenRead("s3://bkt/in/big");
  ASSERT_TRUE(in.ok());
  f.s3.Put("in/big", std::string(5000, 'y'));
  std::string got;
  char buf[4096];
  Status st;
  for (;;) {
    auto n = (*in)->Read(buf, sizeof buf);
    if (!n.ok()) {
      st = n.status();
      break;
    }
    if (*n == 0) break;
  }
  // Chunks already in flight may have been served before the replacement;
  // at least one later chunk must have been refused.
  if (st.ok()) GTEST_SKIP() << "all chunks were fetched before the replacement";
  EXPECT_NE(st.message().find("changed"), std::string::npos) << st.ToString();
}

TEST(S3StorageTest, RetriesTransientFailures) {
  using Fault = TestHttpReply::Fault;
  for (int kind = 0; kind < 5; ++kind) {
    SCOPED_TRACE(kind);
    Fixture f;
    const std::string data = RandomBytes(2500);
    f.s3.Put("in/x", data);
    std::atomic<int> n{0};
    f.s3.fault = [&](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
      if (r.method != "GET" || r.Header("range") != "bytes=1000-1999" || n++ > 0) return std::nullopt;
      TestHttpReply reply;
      switch (kind) {
        case 0: return Error(500, "InternalError");
        case 1: return Error(503, "SlowDown");
        case 2: reply.fault = Fault::kDrop; return reply;
        case 3:  // a body that stops arriving
          reply.status = 206;
          reply.body = std::string(1000, 'x');
          reply.headers.emplace_back("Content-Range", "bytes 1000-1999/2500");
          reply.fault = Fault::kStallMidBody;
          reply.fault_after = 100;
          reply.stall_ms = 3000;
          return reply;
        default:  // a connection reset mid-body
          reply.status = 206;
          reply.body = std::string(1000, 'x');
          reply.headers.emplace_back("Content-Range", "bytes 1000-1999/2500");
          reply.fault = Fault::kCloseMidBody;
          reply.fault_after = 500;
          return reply;
      }
    };
    auto got = f.storage->ReadAll("s3://bkt/in/x");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, data);
    EXPECT_EQ(f.client->retries(), 1);
  }
}

TEST(S3StorageTest, RetriesPutsAndGivesUpAfterMaxAttempts) {
  Fixture f;
  std::atomic<int> puts{0};
  f.s3.fault = [&](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (r.method == "PUT" && puts++ < 2) return Error(503, "SlowDown");
    if (r.method == "GET") return Error(500, "InternalError");
    return std::nullopt;
  };
  ASSERT_TRUE(f.storage->WriteAll("s3://bkt/out/r.csv", "data").ok());
  EXPECT_EQ(*f.s3.Get("out/r.csv"), "data");
  int before = f.s3.requests();
  auto got = f.storage->ReadAll("s3://bkt/out/r.csv");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(f.s3.requests() - before, 4);
  EXPECT_NE(got.status().message().find("after 4 attempts"), std::string::npos) << got.status().ToString();
  EXPECT_EQ(got.status().path(), "s3://bkt/out/r.csv");
}

TEST(S3StorageTest, ClientErrorsAreClearAndNotRetried) {
  Fixture f;
  f.s3.Put("in/x", "x");
  f.s3.fault = [](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (r.path.find("/denied") != std::string::npos) return Error(403, "AccessDenied");
    return std::nullopt;
  };
  int before = f.s3.requests();
  auto denied = f.storage->ReadAll("s3://bkt/denied");
  EXPECT_EQ(f.s3.requests() - before, 1);
  EXPECT_EQ(denied.status().code(), StatusCode::kIoError);
  EXPECT_NE(denied.status().message().find("access denied"), std::string::npos);
  EXPECT_EQ(denied.status().path(), "s3://bkt/denied");

  auto missing = f.storage->ReadAll("s3://bkt/in/none");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().path(), "s3://bkt/in/none");
  auto bucket = f.storage->List("s3://nobucket/in");
  EXPECT_EQ(bucket.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bucket.status().message().find("no such bucket 'nobucket'"), std::string::npos);
  EXPECT_EQ(f.client->retries(), 0);
  EXPECT_EQ(f.storage->OpenWrite("s3://bkt/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.storage->OpenRead("s3:///x").status().code(), StatusCode::kInvalidArgument);
}

TEST(S3StorageTest, SecretsNeverInErrorsOrRequests) {
  Fixture f;
  f.s3.fault = [](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    TestHttpReply reply = Error(r.method == "GET" ? 403 : 500, "SignatureDoesNotMatch");
    reply.body += std::string("<StringToSign>") + "x" + "</StringToSign>";
    return reply;
  };
  std::vector<Status> errors;
  errors.push_back(f.storage->ReadAll("s3://bkt/a").status());
  errors.push_back(f.storage->WriteAll("s3://bkt/a", "x"));
  errors.push_back(f.storage->List("s3://bkt/").status());
  errors.push_back(f.storage->Delete("s3://bkt/a"));
  for (const Status& st : errors) {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.ToString().find(kSecret), std::string::npos) << st.ToString();
    EXPECT_EQ(st.ToString().find(kToken), std::string::npos) << st.ToString();
  }
  // The secret signs requests but is never sent.
  EXPECT_EQ(f.s3.last_authorization().find(kSecret), std::string::npos);
}

TEST(S3StorageTest, ExpiredTokenFetchesCredentialsAgain) {
  std::atomic<int> fetched{0};
  TestHttpServer creds([&](const TestHttpRequest&) {
    TestHttpReply reply;
    reply.body = std::string(R"({"AccessKeyId":"AKTEST","SecretAccessKey":"s","Token":"t)") +
                 std::to_string(++fetched) + R"(","Expiration":"2099-01-01T00:00:00Z"})";
    return reply;
  });
  FakeS3 s3;
  std::atomic<int> n{0};
  s3.fault = [&](const TestHttpRequest& r) -> std::optional<TestHttpReply> {
    if (n++ == 0) return Error(400, "ExpiredToken");
    if (r.Header("x-amz-security-token") != "t2") return Error(403, "InvalidToken");
    return std::nullopt;
  };
  S3Options o;
  o.endpoint = s3.url();
  std::string url = creds.url() + "/c";
  EnvLookup env = [url](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_CONTAINER_CREDENTIALS_FULL_URI") return url;
    if (name == "HOME") return "/nonexistent-fb-home";
    return std::nullopt;
  };
  auto storage = NewS3Storage(std::make_shared<S3Client>(o, std::make_shared<AwsCredentialsProvider>(env)));
  ASSERT_TRUE(storage->WriteAll("s3://bkt/k", "v").ok());
  EXPECT_EQ(fetched.load(), 2);
}

TEST(S3StorageTest, OptionsFromEnvironment) {
  auto env = [](std::map<std::string, std::string> m) {
    m.emplace("HOME", "/nonexistent-fb-home");
    return EnvLookup([m](const std::string& n) -> std::optional<std::string> {
      auto it = m.find(n);
      if (it == m.end()) return std::nullopt;
      return it->second;
    });
  };
  auto o = S3Options::FromEnv(env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"},
                                   {"AWS_DEFAULT_REGION", "eu-central-1"},
                                   {"FB_S3_PART_SIZE_MB", "16"}}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(o->region, "eu-central-1");
  EXPECT_EQ(o->part_size, 16u << 20);
  EXPECT_FALSE(S3Options::FromEnv(env({{"FB_S3_PART_SIZE_MB", "4"}})).ok());
  EXPECT_FALSE(S3Options::FromEnv(env({{"AWS_ENDPOINT_URL", "ftp://x"}})).ok());
  EXPECT_EQ(ParseS3Uri("s3://b/k/x")->key, "k/x");
}

}  // namespace
}  // namespace fb
