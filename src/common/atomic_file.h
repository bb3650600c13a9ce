// AtomicFile: a file that appears at its final path only complete.
//
// Bytes go to a temporary file in the destination's folder, named
// ".<name>.fbtmp.<pid>.<random>" so that listings can recognise and skip it
// (IsTemporaryName). Commit() flushes, fsyncs and renames it into place;
// Abort() or the destructor without Commit() removes it. A process killed in
// between leaves only a temporary, never a partial output. On Linux, every
// few MiB written are handed to the kernel for write-back at once
// (sync_file_range), so that Commit's fsync waits only for the tail.
//
// Not thread-safe: one writer per object.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fb {

class AtomicFile {
 public:
  // Creates the folder of `path` as needed. `path` "-" means stdout (no
  // temporary, Commit just flushes); an existing FIFO or character device
  // (/dev/null) is written in place too (Commit flushes and closes it), never
  // replaced.
  static Result<AtomicFile> Create(const std::string& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  Status Write(std::string_view bytes);
  // Flush, fsync, rename to the final path, fsync the folder.
  Status Commit();
  // Removes the temporary; safe to call more than once.
  void Abort();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile() = default;
  // Gives file_ a stdio buffer of its own (atomic_file.cc: kBufferBytes).
  void UseBuffer();
  std::string path_;
  std::string temp_path_;
  FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;  // file_'s buffer, freed only after file_ is closed
  uint64_t written_ = 0;            // bytes given to Write
  uint64_t synced_ = 0;             // bytes handed to write-back
  bool is_stdout_ = false;
  bool in_place_ = false;  // an existing FIFO or character device
  bool done_ = false;
};

// `name` itself when it has at most `max_bytes` bytes; otherwise its first
// bytes followed by "~" and a 64-bit FNV-1a hash of the whole name (16 hex
// digits), `max_bytes` in all. Names of hidden companions (temporaries,
// manifests) are made with it, so that any name that fits a folder (NAME_MAX,
// 255 bytes) has companions that fit too.
std::string NameWithin(std::string_view name, size_t max_bytes);

// The one temporary-name rule (AtomicFile, the runner's --exec outputs and
// the stale-temporary sweep all use it): a temporary for `file_name` is
// TemporaryPrefixFor(file_name) + "<pid>.<random hex>", where the prefix is
// ".<name>.fbtmp." and <name> is `file_name` itself, or, when that would
// push the temporary past NAME_MAX (255 bytes), its first bytes followed by
// "~" and a 64-bit hash of the whole name, so any name that fits a folder
// has a temporary that fits too.
std::string TemporaryPrefixFor(std::string_view file_name);
// A fresh temporary name for `file_name` (prefix, this pid, random).
std::string TemporaryNameFor(std::string_view file_name);
// The prefix and writer pid of a temporary name; false when `name` is not one.
bool ParseTemporaryName(std::string_view name, std::string_view* prefix, long* pid);
// True for names made by TemporaryNameFor.
bool IsTemporaryName(std::string_view file_name);

// Writes `bytes` to `path` atomically (AtomicFile in one call).
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Reads a whole file ("-" = stdin), refusing one longer than `max_bytes`
// (a device such as /dev/zero or a pipe never ends).
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);

}  // namespace fb
