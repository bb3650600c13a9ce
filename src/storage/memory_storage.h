// MemoryStorage: a Storage that keeps objects in memory, and
// FaultInjectingStorage: a wrapper that makes chosen calls of another Storage
// fail. Both exist for the tests of the layers above storage (pipeline,
// runner) so that they can check exactly-once behaviour without disks or
// networks.
//
// MemoryStorage accepts any URI string as a key ("mem://a/b", "s3://b/k",
// "out/x.csv"); List(prefix) returns the objects whose key starts with
// prefix + "/" (or equals prefix), like a folder. Writes appear only on
// Commit(), as with the real backends.
//
// FaultInjectingStorage counts calls per operation and fails the ones its
// rules select (the Nth call, every call, calls matching a URI substring);
// it can also cut reads short (an IoError after N bytes, or a silent early
// end of stream for truncation tests) and fail Commit() after the bytes were
// written. Failed commits leave nothing behind.
//
// Thread safety: both may be used from many threads; streams by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace fb {

class MemoryStorage final : public Storage {
 public:
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::optional<ObjectInfo>> Stat(const std::string& uri) override;
  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override;
  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) override;
  Status Delete(const std::string& uri) override;
  Result<std::string> ReadRange(const std::string& uri, uint64_t offset, uint64_t length) override;
  // Conditional create, atomic under the storage's lock; Unsupported after
  // set_conditional_writes(false) (a store without `If-None-Match`).
  Status WriteIfAbsent(const std::string& uri, std::string_view bytes) override;
  void set_conditional_writes(bool on);
  // Ranged reads so far and the bytes they returned (tests of what a reader reads).
  int range_reads() const;
  uint64_t range_bytes() const;

  // Test helpers.
  void Put(const std::string& uri, std::string bytes);
  std::optional<std::string> Get(const std::string& uri) const;
  std::vector<std::string> Keys() const;
  // Number of writes opened but neither committed nor aborted.
  int open_writes() const;

 private:
  friend class MemoryWriteStream;
  struct Object {
    std::shared_ptr<const std::string> bytes;
    int64_t mtime_ns = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Object> objects_;
  int open_writes_ = 0;
  int range_reads_ = 0;
  uint64_t range_bytes_ = 0;
  int64_t clock_ = 0;  // a logical clock for mtime_ns, increasing per commit
  bool conditional_writes_ = true;
};

enum class StorageOp : uint8_t {
  kList,
  kStat,
  kOpenRead,
  kRead,
  kOpenWrite,
  kWrite,
  kCommit,
  kDelete,
  kWriteIfAbsent,
};

struct FaultRule {
  StorageOp op = StorageOp::kOpenRead;
  // Which calls of `op` (counted from 1 across all URIs that match) fail:
  // nth > 0 fails only that call; nth == 0 fails every matching call.
  int nth = 0;
  // Only calls whose URI contains this substring match (empty: all).
  std::string uri_contains;
  // The status returned by the failed call.
  StatusCode code = StatusCode::kIoError;
  // For kRead: deliver this many bytes of the object first, then fail (or,
  // with truncate, end the stream early without an error).
  uint64_t after_bytes = 0;
  bool truncate = false;
  // For kWriteIfAbsent: perform the write, then report the failure.
  bool after_commit = false;
};

class FaultInjectingStorage final : public Storage {
 public:
  explicit FaultInjectingStorage(std::shared_ptr<Storage> base) : base_(std::move(base)) {}
  void AddRule(FaultRule rule);
  void ClearRules();
  // How many calls of `op` were made (failed ones included).
  int calls(StorageOp op) const;
  // How many faults were injected so far.
  int injected() const;

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::optional<ObjectInfo>> Stat(const std::string& uri) override;
  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override;
  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) override;
  Status Delete(const std::string& uri) override;
  // A ranged read counts as one kOpenRead and one kRead call; a kRead rule
  // fails it (or, with truncate, returns it cut at after_bytes).
  Result<std::string> ReadRange(const std::string& uri, uint64_t offset, uint64_t length) override;
  // One kWriteIfAbsent call. A rule with code kAlreadyExists plays a lost
  // race; `after_commit` on that rule instead makes the write happen and
  // then fail (an answer lost on the way back, as a retried PUT can see).
  Status WriteIfAbsent(const std::string& uri, std::string_view bytes) override;

  // Returns the rule that fires for this call of `op` on `uri`, if any, and
  // counts the call. Used by the streams too.
  std::optional<FaultRule> Check(StorageOp op, const std::string& uri);

 private:
  std::shared_ptr<Storage> base_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  std::map<StorageOp, int> calls_;
  std::map<size_t, int> matched_;  // per rule: matching calls so far
  int injected_ = 0;
};

}  // namespace fb
