#include "storage/memory_storage.h"

#include <algorithm>
#include <cstring>

namespace fb {
namespace {

Status Injected(const FaultRule& r, const std::string& uri) {
  return Status(r.code, "injected fault").At(uri);
}

class MemoryReadStream final : public ReadStream {
 public:
  explicit MemoryReadStream(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, bytes_->size() - pos_);
    std::memcpy(buf, bytes_->data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t pos_ = 0;
};

bool UnderPrefix(const std::string& key, const std::string& prefix, std::string* relative) {
  if (prefix.empty()) {
    *relative = key;
    return true;
  }
  std::string folder = prefix.back() == '/' ? prefix : prefix + "/";
  if (key.compare(0, folder.size(), folder) != 0) return false;
  *relative = key.substr(folder.size());
  return !relative->empty();
}

}  // namespace

class MemoryWriteStream final : public WriteStream {
 public:
  MemoryWriteStream(MemoryStorage* s, std::string uri) : s_(s), uri_(std::move(uri)) {}
  ~MemoryWriteStream() override { Abort(); }
  Status Write(std::string_view b) override {
    if (done_) return Internal("write after commit or abort").At(uri_);
    buf_.append(b);
    return Status::Ok();
  }
  Status Commit() override {
    if (done_) return Internal("commit after commit or abort").At(uri_);
    done_ = true;
    std::lock_guard<std::mutex> lock(s_->mu_);
    s_->objects_[uri_] = {std::make_shared<const std::string>(std::move(buf_)), ++s_->clock_};
    --s_->open_writes_;
    return Status::Ok();
  }
  void Abort() override {
    if (done_) return;
    done_ = true;
    buf_.clear();
    std::lock_guard<std::mutex> lock(s_->mu_);
    --s_->open_writes_;
  }

 private:
  MemoryStorage* s_;
  std::string uri_;
  std::string buf_;
  bool done_ = false;
};

Result<std::vector<ObjectInfo>> MemoryStorage::List(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectInfo> out;
  auto exact = objects_.find(prefix);
  if (exact != objects_.end()) {
    size_t slash = prefix.rfind('/');
    out.push_back({prefix, slash == std::string::npos ? prefix : prefix.substr(slash + 1),
                   exact->second.bytes->size(), exact->second.mtime_ns});
    return out;
  }
  std::string rel;
  for (const auto& [key, obj] : objects_) {
    if (UnderPrefix(key, prefix, &rel)) out.push_back({key, rel, obj.bytes->size(), obj.mtime_ns});
  }
  if (out.empty()) return NotFound("no such folder").At(prefix);
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.relative < b.relative; });
  return out;
}

Result<std::optional<ObjectInfo>> MemoryStorage::Stat(const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(uri);
  if (it == objects_.end()) return std::optional<ObjectInfo>();
  size_t slash = uri.rfind('/');
  return std::optional<ObjectInfo>(ObjectInfo{uri, slash == std::string::npos ? uri : uri.substr(slash + 1),
                                              it->second.bytes->size(), it->second.mtime_ns});
}

Result<std::string> MemoryStorage::ReadRange(const std::string& uri, uint64_t offset, uint64_t length) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(uri);
  if (it == objects_.end()) return NotFound("no such object").At(uri);
  const std::string& b = *it->second.bytes;
  if (offset > b.size() || length > b.size() - offset) {
    return InvalidData("the object ends at byte " + std::to_string(b.size()) + ", before byte " +
                       std::to_string(offset + length))
        .At(uri);
  }
  ++range_reads_;
  range_bytes_ += length;
  return b.substr(offset, length);
}

int MemoryStorage::range_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return range_reads_;
}

uint64_t MemoryStorage::range_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return range_bytes_;
}

Result<std::unique_ptr<ReadStream>> MemoryStorage::OpenRead(const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(uri);
  if (it == objects_.end()) return NotFound("no such object").At(uri);
  return std::unique_ptr<ReadStream>(new MemoryReadStream(it->second.bytes));
}

Result<std::unique_ptr<WriteStream>> MemoryStorage::OpenWrite(const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  ++open_writes_;
  return std::unique_ptr<WriteStream>(new MemoryWriteStream(this, uri));
}

Status MemoryStorage::Delete(const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_.erase(uri);
  return Status::Ok();
}

Status MemoryStorage::WriteIfAbsent(const std::string& uri, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!conditional_writes_) return Unsupported("this store has no conditional writes").At(uri);
  if (objects_.count(uri)) return AlreadyExists("the object exists").At(uri);
  objects_[uri] = {std::make_shared<const std::string>(bytes), ++clock_};
  return Status::Ok();
}

void MemoryStorage::set_conditional_writes(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  conditional_writes_ = on;
}

void MemoryStorage::Put(const std::string& uri, std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_[uri] = {std::make_shared<const std::string>(std::move(bytes)), ++clock_};
}

std::optional<std::string> MemoryStorage::Get(const std::string& uri) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(uri);
  if (it == objects_.end()) return std::nullopt;
  return *it->second.bytes;
}

std::vector<std::string> MemoryStorage::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& kv : objects_) out.push_back(kv.first);
  return out;
}

int MemoryStorage::open_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_writes_;
}

// ---- FaultInjectingStorage ----

namespace {

class FaultReadStream final : public ReadStream {
 public:
  FaultReadStream(FaultInjectingStorage* s, std::string uri, std::unique_ptr<ReadStream> base)
      : s_(s), uri_(std::move(uri)), base_(std::move(base)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (!rule_checked_) {
      rule_checked_ = true;
      rule_ = s_->Check(StorageOp::kRead, uri_);
    }
    if (rule_) {
      if (pos_ >= rule_->after_bytes) {
        if (rule_->truncate) return size_t{0};
        return Injected(*rule_, uri_);
      }
      n = std::min<uint64_t>(n, rule_->after_bytes - pos_);
    }
    FB_ASSIGN_OR_RETURN(size_t got, base_->Read(buf, n));
    pos_ += got;
    return got;
  }

 private:
  FaultInjectingStorage* s_;
  std::string uri_;
  std::unique_ptr<ReadStream> base_;
  bool rule_checked_ = false;
  std::optional<FaultRule> rule_;
  uint64_t pos_ = 0;
};

class FaultWriteStream final : public WriteStream {
 public:
  FaultWriteStream(FaultInjectingStorage* s, std::string uri, std::unique_ptr<WriteStream> base)
      : s_(s), uri_(std::move(uri)), base_(std::move(base)) {}
  Status Write(std::string_view b) override {
    if (auto r = s_->Check(StorageOp::kWrite, uri_)) return Injected(*r, uri_);
    return base_->Write(b);
  }
  Status Commit() override {
    if (auto r = s_->Check(StorageOp::kCommit, uri_)) {
      base_->Abort();
      return Injected(*r, uri_);
    }
    return base_->Commit();
  }
  void Abort() override { base_->Abort(); }

 private:
  FaultInjectingStorage* s_;
  std::string uri_;
  std::unique_ptr<WriteStream> base_;
};

}  // namespace

void FaultInjectingStorage::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultInjectingStorage::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  matched_.clear();
}

int FaultInjectingStorage::calls(StorageOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

int FaultInjectingStorage::injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

std::optional<FaultRule> FaultInjectingStorage::Check(StorageOp op, const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_[op];
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& r = rules_[i];
    if (r.op != op) continue;
    if (!r.uri_contains.empty() && uri.find(r.uri_contains) == std::string::npos) continue;
    int n = ++matched_[i];
    if (r.nth == 0 || r.nth == n) {
      ++injected_;
      return r;
    }
  }
  return std::nullopt;
}

Result<std::vector<ObjectInfo>> FaultInjectingStorage::List(const std::string& prefix) {
  if (auto r = Check(StorageOp::kList, prefix)) return Injected(*r, prefix);
  return base_->List(prefix);
}

Result<std::optional<ObjectInfo>> FaultInjectingStorage::Stat(const std::string& uri) {
  if (auto r = Check(StorageOp::kStat, uri)) return Injected(*r, uri);
  return base_->Stat(uri);
}

Result<std::string> FaultInjectingStorage::ReadRange(const std::string& uri, uint64_t offset,
                                                     uint64_t length) {
  if (auto r = Check(StorageOp::kOpenRead, uri)) return Injected(*r, uri);
  auto r = Check(StorageOp::kRead, uri);
  FB_ASSIGN_OR_RETURN(std::string bytes, base_->ReadRange(uri, offset, length));
  if (r) {
    if (!r->truncate) return Injected(*r, uri);
    bytes.resize(std::min<uint64_t>(bytes.size(), r->after_bytes));
  }
  return bytes;
}

Result<std::unique_ptr<ReadStream>> FaultInjectingStorage::OpenRead(const std::string& uri) {
  if (auto r = Check(StorageOp::kOpenRead, uri)) return Injected(*r, uri);
  FB_ASSIGN_OR_RETURN(auto base, base_->OpenRead(uri));
  return std::unique_ptr<ReadStream>(new FaultReadStream(this, uri, std::move(base)));
}

Result<std::unique_ptr<WriteStream>> FaultInjectingStorage::OpenWrite(const std::string& uri) {
  if (auto r = Check(StorageOp::kOpenWrite, uri)) return Injected(*r, uri);
  FB_ASSIGN_OR_RETURN(auto base, base_->OpenWrite(uri));
  return std::unique_ptr<WriteStream>(new FaultWriteStream(this, uri, std::move(base)));
}

Status FaultInjectingStorage::Delete(const std::string& uri) {
  if (auto r = Check(StorageOp::kDelete, uri)) return Injected(*r, uri);
  return base_->Delete(uri);
}

Status FaultInjectingStorage::WriteIfAbsent(const std::string& uri, std::string_view bytes) {
  auto r = Check(StorageOp::kWriteIfAbsent, uri);
  if (!r) return base_->WriteIfAbsent(uri, bytes);
  if (r->after_commit) (void)base_->WriteIfAbsent(uri, bytes);
  return Injected(*r, uri);
}

}  // namespace fb
