#include "storage/s3_storage.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>

namespace fb {
namespace {

constexpr uint64_t kMaxPartSize = 5ull << 30;

std::string LastComponent(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

// "Wed, 12 Oct 2009 17:50:00 GMT" or ISO 8601 -> ns since the epoch; 0 if unknown.
int64_t ParseTime(const std::string& s) {
  if (s.empty()) return 0;
  if (auto t = ParseIso8601(s)) return *t * 1000000000;
  std::tm tm{};
  if (strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000000000;
}

// The raw text between <tag> and </tag> starting at `from`.
std::optional<std::string_view> RawSection(std::string_view xml, std::string_view tag, size_t from,
                                           size_t* next) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t b = xml.find(open, from);
  if (b == std::string_view::npos) return std::nullopt;
  size_t e = xml.find(close, b);
  if (e == std::string_view::npos) return std::nullopt;
  *next = e + close.size();
  return xml.substr(b + open.size(), e - b - open.size());
}

class S3ReadStream final : public ReadStream {
 public:
  S3ReadStream(std::shared_ptr<S3Client> c, S3Location loc, std::string uri)
      : c_(std::move(c)), loc_(std::move(loc)), uri_(std::move(uri)) {}

  Status Open() {
    // The first chunk tells the size and ETag (Content-Range), saving a HEAD.
    FB_ASSIGN_OR_RETURN(HttpResponse r, Fetch(0, c_->options().read_chunk, /*first=*/true));
    if (r.status == 416) {  // an empty object has no byte 0
      size_ = 0;
      return Status::Ok();
    }
    if (r.status == 200) {  // the server ignored Range: this is the whole object
      size_ = r.body.size();
    } else {
      std::string cr = r.Header("content-range");
      size_t slash = cr.rfind('/');
      if (slash == std::string::npos) return IoError("S3 GET: ranged answer without Content-Range").At(uri_);
      size_ = std::strtoull(cr.c_str() + slash + 1, nullptr, 10);
    }
    etag_ = r.Header("etag");
    cur_ = std::move(r.body);
    next_ = cur_.size();
    Schedule();
    return Status::Ok();
  }

  Result<size_t> Read(char* buf, size_t n) override {
    while (pos_ == cur_.size()) {
      if (pending_.empty()) return size_t{0};
      auto got = pending_.front().get();
      pending_.pop_front();
      if (!got.ok()) return std::move(got).take_status();
      cur_ = std::move(*got);
      pos_ = 0;
      Schedule();
    }
    size_t k = std::min(n, cur_.size() - pos_);
    std::memcpy(buf, cur_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  Result<HttpResponse> Fetch(uint64_t offset, uint64_t len, bool first) {
    S3Request req;
    req.loc = loc_;
    req.headers.emplace_back("Range",
                             "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + len - 1));
    if (!first && !etag_.empty()) req.headers.emplace_back("If-Match", etag_);
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri_));
    if (r.status == 206 || r.status == 200 || (first && r.status == 416)) return r;
    if (r.status == 412) return IoError("the object changed while it was being read").At(uri_);
    return S3Client::ErrorFor(r, "GET", uri_);
  }

  void Schedule() {
    const uint64_t chunk = c_->options().read_chunk;
    while (static_cast<int>(pending_.size()) < c_->options().read_parallel && next_ < size_) {
      uint64_t off = next_, len = std::min(chunk, size_ - next_);
      next_ += len;
      pending_.push_back(std::async(std::launch::async, [this, off, len]() -> Result<std::string> {
        FB_ASSIGN_OR_RETURN(HttpResponse r, Fetch(off, len, false));
        if (r.body.size() != len) {
          return IoError("S3 GET returned " + std::to_string(r.body.size()) + " bytes at offset " +
                         std::to_string(off) + ", expected " + std::to_string(len))
              .At(uri_);
        }
        return std::move(r.body);
      }));
    }
  }

  std::shared_ptr<S3Client> c_;
  S3Location loc_;
  std::string uri_;
  uint64_t size_ = 0;
  uint64_t next_ = 0;  // first byte not yet requested
  std::string etag_;
  std::string cur_;
  size_t pos_ = 0;
  std::deque<std::future<Result<std::string>>> pending_;
};

class S3WriteStream final : public WriteStream {
 public:
  S3WriteStream(std::shared_ptr<S3Client> c, S3Location loc, std::string uri)
      : c_(std::move(c)), loc_(std::move(loc)), uri_(std::move(uri)) {}
  ~S3WriteStream() override { Abort(); }

  Status Write(std::string_view b) override {
    if (done_) return Internal("write after commit or abort").At(uri_);
    buf_.append(b);
    while (buf_.size() >= PartSize()) {
      Status st = UploadPart(PartSize());
      if (!st.ok()) {
        Abort();
        return st;
      }
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (done_) return Internal("commit after commit or abort").At(uri_);
    Status st = upload_id_.empty() ? PutWhole() : Complete();
    if (!st.ok()) {
      Abort();
      return st;
    }
    done_ = true;
    return Status::Ok();
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    buf_.clear();
    buf_.shrink_to_fit();
    if (upload_id_.empty()) return;
    S3Request req;
    req.method = "DELETE";
    req.loc = loc_;
    req.query = {{"uploadId", upload_id_}};
    // Best effort: an upload left behind is invisible and expires with the
    // bucket's lifecycle rules; nothing partial is ever readable.
    (void)c_->Send(req, uri_);
  }

 private:
  uint64_t PartSize() const {
    uint64_t s = c_->options().part_size << std::min<size_t>(parts_.size() / 1000, 20);
    return std::min(s, kMaxPartSize);
  }

  Status PutWhole() {
    S3Request req;
    req.method = "PUT";
    req.loc = loc_;
    req.body = buf_;
    req.hash_body = true;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri_));
    if (r.status / 100 != 2) return S3Client::ErrorFor(r, "PUT", uri_);
    return Status::Ok();
  }

  Status UploadPart(size_t n) {
    if (upload_id_.empty()) {
      S3Request init;
      init.method = "POST";
      init.loc = loc_;
      init.query = {{"uploads", ""}};
      init.hash_body = true;
      FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(init, uri_));
      if (r.status / 100 != 2) return S3Client::ErrorFor(r, "CreateMultipartUpload", uri_);
      auto id = XmlTag(r.body, "UploadId");
      if (!id || id->empty()) return IoError("CreateMultipartUpload answered no UploadId").At(uri_);
      upload_id_ = *id;
    }
    if (parts_.size() >= 10000) return IoError("object too large for a multipart upload").At(uri_);
    const int number = static_cast<int>(parts_.size()) + 1;
    S3Request req;
    req.method = "PUT";
    req.loc = loc_;
    req.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    req.body = std::string_view(buf_).substr(0, n);
    req.hash_body = true;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri_));
    if (r.status / 100 != 2) return S3Client::ErrorFor(r, "UploadPart", uri_);
    std::string etag = r.Header("etag");
    if (etag.empty()) return IoError("UploadPart answered no ETag").At(uri_);
    parts_.push_back(etag);
    buf_.erase(0, n);
    return Status::Ok();
  }

  Status Complete() {
    if (!buf_.empty()) FB_RETURN_IF_ERROR(UploadPart(buf_.size()));
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(parts_[i]) +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    S3Request req;
    req.method = "POST";
    req.loc = loc_;
    req.query = {{"uploadId", upload_id_}};
    req.headers.emplace_back("Content-Type", "application/xml");
    req.body = xml;
    req.hash_body = true;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri_));
    // S3 may answer 200 and report the failure in the body.
    if (r.status / 100 != 2 || r.body.find("<Error>") != std::string::npos) {
      if (r.status / 100 == 2) r.status = 500;
      return S3Client::ErrorFor(r, "CompleteMultipartUpload", uri_);
    }
    upload_id_.clear();  // completed: nothing to abort
    return Status::Ok();
  }

  std::shared_ptr<S3Client> c_;
  S3Location loc_;
  std::string uri_;
  std::string buf_;
  std::string upload_id_;
  std::vector<std::string> parts_;  // ETags in part order
  bool done_ = false;
};

class S3 final : public Storage {
 public:
  explicit S3(std::shared_ptr<S3Client> c) : c_(std::move(c)) {}

  Result<std::vector<ObjectInfo>> List(const std::string& prefix_uri) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(prefix_uri));
    std::string folder = loc.key;
    if (!folder.empty() && folder.back() != '/') folder.push_back('/');
    std::string base_uri = "s3://" + loc.bucket + "/";
    std::vector<ObjectInfo> out;
    std::string token;
    for (;;) {
      S3Request req;
      req.loc = {loc.bucket, ""};
      req.query = {{"list-type", "2"}, {"prefix", folder}};
      if (!token.empty()) req.query.emplace_back("continuation-token", token);
      FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, prefix_uri));
      if (r.status != 200) return S3Client::ErrorFor(r, "ListObjectsV2", prefix_uri);
      size_t at = 0, next = 0;
      while (auto contents = RawSection(r.body, "Contents", at, &next)) {
        at = next;
        auto key = XmlTag(*contents, "Key");
        if (!key || key->empty() || key->back() == '/' || key->size() <= folder.size()) continue;
        ObjectInfo info;
        info.uri = base_uri + *key;
        info.relative = key->substr(folder.size());
        info.size = std::strtoull(XmlTag(*contents, "Size").value_or("0").c_str(), nullptr, 10);
        info.mtime_ns = ParseTime(XmlTag(*contents, "LastModified").value_or(""));
        out.push_back(std::move(info));
      }
      if (XmlTag(r.body, "IsTruncated").value_or("false") != "true") break;
      token = XmlTag(r.body, "NextContinuationToken").value_or("");
      if (token.empty())
        return IoError("ListObjectsV2: truncated page without a continuation token").At(prefix_uri);
    }
    if (out.empty() && !loc.key.empty() && loc.key.back() != '/') {
      FB_ASSIGN_OR_RETURN(auto one, Stat(prefix_uri));
      if (one) out.push_back(*one);
    }
    if (out.empty()) return NotFound("no objects under this prefix").At(prefix_uri);
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.relative < b.relative; });
    return out;
  }

  Result<std::optional<ObjectInfo>> Stat(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    if (loc.key.empty()) return InvalidArgument("an s3:// URI of an object needs a key").At(uri);
    S3Request req;
    req.method = "HEAD";
    req.loc = loc;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri));
    if (r.status == 404) return std::optional<ObjectInfo>();
    if (r.status != 200) return S3Client::ErrorFor(r, "HEAD", uri);
    ObjectInfo info;
    info.uri = uri;
    info.relative = LastComponent(loc.key);
    info.size = std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
    info.mtime_ns = ParseTime(r.Header("last-modified"));
    return std::optional<ObjectInfo>(std::move(info));
  }

  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    if (loc.key.empty()) return InvalidArgument("an s3:// URI of an object needs a key").At(uri);
    auto s = std::make_unique<S3ReadStream>(c_, std::move(loc), uri);
    FB_RETURN_IF_ERROR(s->Open());
    return std::unique_ptr<ReadStream>(std::move(s));
  }

  // One ranged GET (the client retries it); Parquet readers ask for the
  // footer and then only the column chunks they need.
  Result<std::string> ReadRange(const std::string& uri, uint64_t offset, uint64_t length) override {
    if (length == 0) return std::string();
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    if (loc.key.empty()) return InvalidArgument("an s3:// URI of an object needs a key").At(uri);
    S3Request req;
    req.loc = std::move(loc);
    req.headers.emplace_back("Range",
                             "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri));
    if (r.status == 200 && offset + length <= r.body.size()) {  // the server ignored Range
      return r.body.substr(offset, length);
    }
    if (r.status != 206 && r.status != 200) return S3Client::ErrorFor(r, "GET", uri);
    if (r.body.size() != length) {
      return InvalidData("S3 GET returned " + std::to_string(r.body.size()) + " bytes at offset " +
                         std::to_string(offset) + ", expected " + std::to_string(length))
          .At(uri);
    }
    return std::move(r.body);
  }

  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    if (loc.key.empty() || loc.key.back() == '/') {
      return InvalidArgument("an s3:// URI of an object needs a key").At(uri);
    }
    return std::unique_ptr<WriteStream>(new S3WriteStream(c_, std::move(loc), uri));
  }

  // A conditional PUT (S3 since August 2024): `If-None-Match: *` makes S3
  // refuse with 412 PreconditionFailed when the key exists, and 409
  // ConditionalRequestConflict while another conditional write of the key is
  // in flight; both mean another writer has it. A store that does not know
  // the header answers 501 NotImplemented (Unsupported) or ignores it
  // (ClaimBook::Probe catches that). A retried PUT whose first try succeeded
  // gets 412 from its own object: callers that care compare contents.
  Status WriteIfAbsent(const std::string& uri, std::string_view bytes) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    S3Request req;
    req.method = "PUT";
    req.loc = loc;
    req.headers = {{"If-None-Match", "*"}};
    req.body = bytes;
    req.hash_body = true;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri));
    if (r.status / 100 == 2) return Status::Ok();
    const std::string code = XmlTag(r.body, "Code").value_or("");
    if (r.status == 412 || r.status == 409 || code == "PreconditionFailed" ||
        code == "ConditionalRequestConflict") {
      return AlreadyExists("the object exists (HTTP " + std::to_string(r.status) + " " + code + ")").At(uri);
    }
    if (r.status == 501 || code == "NotImplemented") {
      return Unsupported("this S3 store has no conditional writes (If-None-Match on PUT): HTTP " +
                         std::to_string(r.status) + " " + code)
          .At(uri);
    }
    return S3Client::ErrorFor(r, "conditional PUT", uri);
  }

  Status Delete(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
    S3Request req;
    req.method = "DELETE";
    req.loc = loc;
    FB_ASSIGN_OR_RETURN(HttpResponse r, c_->Send(req, uri));
    if (r.status / 100 == 2 || (r.status == 404 && XmlTag(r.body, "Code").value_or("") != "NoSuchBucket")) {
      return Status::Ok();
    }
    return S3Client::ErrorFor(r, "DELETE", uri);
  }

 private:
  std::shared_ptr<S3Client> c_;
};

}  // namespace

std::shared_ptr<Storage> NewS3Storage(std::shared_ptr<S3Client> client) {
  return std::make_shared<S3>(std::move(client));
}

Result<std::shared_ptr<Storage>> S3StorageFromEnvironment() {
  static std::mutex mu;
  static std::shared_ptr<Storage> storage;
  std::lock_guard<std::mutex> lock(mu);
  if (storage) return storage;
  EnvLookup env = ProcessEnvironment();
  FB_ASSIGN_OR_RETURN(S3Options options, S3Options::FromEnv(env));
  auto creds = std::make_shared<AwsCredentialsProvider>(env);
  storage = NewS3Storage(std::make_shared<S3Client>(std::move(options), std::move(creds)));
  return storage;
}

}  // namespace fb
