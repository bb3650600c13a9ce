// Storage: local folders and object stores behind one interface, chosen by
// URI scheme ("s3://bucket/key" or a plain path). The runner and the
// pipeline see only this interface.
//
// Writes are atomic everywhere: an object written through OpenWrite becomes
// visible only when Commit() succeeds (local: temporary file + rename; S3: one
// PUT or a completed multipart upload), and Abort() or destruction without
// Commit() leaves nothing behind.
//
// Thread safety: a Storage may be used from many threads at once; streams are
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fb {

struct ObjectInfo {
  std::string uri;       // full URI or path, usable with OpenRead
  std::string relative;  // path relative to the listed prefix, '/'-separated
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // 0 when unknown
};

class ReadStream {
 public:
  virtual ~ReadStream() = default;
  // Reads up to n bytes; returns 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Once everything read has been used: kIoError naming the object when it
  // changed while it was read, so that nothing computed from its bytes is
  // kept (a local regular file: its size or modification time is no longer
  // what it was when opened: truncated, grown or written to; a file replaced
  // by a rename is not a change, the open one is read whole). Streams that
  // cannot tell (stdin, pipes, S3) answer OK.
  virtual Status CheckUnchanged() { return Status::Ok(); }
};

class WriteStream {
 public:
  virtual ~WriteStream() = default;
  virtual Status Write(std::string_view bytes) = 0;
  // Makes the whole object visible at its URI.
  virtual Status Commit() = 0;
  // Discards everything written; safe to call more than once.
  virtual void Abort() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Every object under `prefix` (a folder, or an S3 prefix), recursively,
  // sorted by `relative` (byte order), skipping temporaries.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // nullopt when it does not exist.
  virtual Result<std::optional<ObjectInfo>> Stat(const std::string& uri) = 0;
  virtual Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) = 0;
  virtual Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) = 0;
  virtual Status Delete(const std::string& uri) = 0;
  // Reads bytes [offset, offset + length) of an object (Parquet footers and
  // column chunks). Fewer bytes than asked, when the object is shorter, is
  // kInvalidData. The default opens a stream and skips; backends override it
  // with a positioned read (local pread, S3 one ranged GET).
  virtual Result<std::string> ReadRange(const std::string& uri, uint64_t offset, uint64_t length);
  // Reads a whole object.
  Result<std::string> ReadAll(const std::string& uri);
  // Writes a whole object atomically.
  Status WriteAll(const std::string& uri, std::string_view bytes);
  // Writes a whole object only where none exists yet (an exclusive create):
  // of any number of concurrent callers for one URI, exactly one succeeds and
  // the others get AlreadyExists; nobody ever sees a partial object. Local:
  // a complete private file published with link(2); S3: a PUT with
  // `If-None-Match: *` (a 412 answer is AlreadyExists). Unsupported where the
  // backend cannot do it atomically (the default).
  virtual Status WriteIfAbsent(const std::string& uri, std::string_view bytes);
};

// Joins a prefix and a relative path ("out" + "a/b.csv"). Fails with
// InvalidArgument if `relative` is absolute or would climb out of the prefix
// (".." components): object keys are untrusted.
Result<std::string> JoinUnder(const std::string& prefix, std::string_view relative);

bool IsS3Uri(std::string_view uri);

// The local file system (paths; "-" is stdin/stdout).
std::shared_ptr<Storage> LocalStorage();

// The backend for `uri`'s scheme.
Result<std::shared_ptr<Storage>> StorageFor(const std::string& uri);

}  // namespace fb
