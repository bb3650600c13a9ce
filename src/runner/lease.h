// Lease: one owner at a time for a named thing (an output folder, a job),
// among processes that share a file system. The lease is a small JSON file:
// the owner's ProcessIdentity (runner/process_identity.h), what it holds the
// lease for, a random token, and a heartbeat time the owner renews.
//
// Taking it is atomic: the complete file is written under a private name and
// published with link(2), which fails when a lease is already there, so two
// contenders never both win and nobody reads a half-written lease. A lease
// whose owner is known dead (same host: PID gone or reused, or the host
// rebooted) or whose heartbeat is older than `stale_seconds` (another host)
// is taken over: the contenders that judged it dead agree on one of them
// through a takeover mark named by the dead lease's token (link(2) again),
// and that one replaces the lease with rename(2) after checking it is still
// the dead one.
//
// Guarantees: on one machine, and across machines on a file system with
// atomic link(2) and rename(2) (local file systems, NFSv3+), at most one live
// owner. An owner whose heartbeat stops for `stale_seconds` while it still
// runs (a paused VM) can lose its lease to a process on another host; Renew
// then reports it, and the owner must stop writing. Not for S3 (no atomic
// create there): callers keep such leases in a local folder.
//
// Thread safety: a Lease object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "runner/process_identity.h"

namespace fb {

struct LeaseInfo {
  ProcessIdentity owner;
  std::string what;  // e.g. "job train-20261202-101500-ab12 writing /data/out"
  std::string token;
  int64_t acquired_unix = 0, heartbeat_unix = 0;

  std::string ToJson() const;
  static Result<LeaseInfo> FromJson(const std::string& json);
  // "job X (pid 12 on host-a, heartbeat 3 s ago)".
  std::string Describe() const;
};

struct LeaseOptions {
  double stale_seconds = 120;  // a heartbeat older than this (another host's owner) is dead
};

class Lease {
 public:
  // Takes the lease at `path` (its folder must exist) for `what`. When a
  // live owner holds it: AlreadyExists naming that owner and what it does.
  static Result<std::unique_ptr<Lease>> Acquire(const std::string& path, const std::string& what,
                                                const LeaseOptions& options = {});
  // The lease at `path`, if any (NotFound-free: nullopt when there is none).
  static Result<std::optional<LeaseInfo>> Read(const std::string& path);
  // Is the holder of `info` alive? kUnknown only while its heartbeat is fresh.
  static Liveness HolderLiveness(const LeaseInfo& info, const LeaseOptions& options = {});

  ~Lease();  // releases
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Heartbeat: rewrites the lease with the time now. Cancelled ("lease
  // lost") when the file is no longer this owner's.
  Status Renew();
  // Removes the lease if it is still this owner's.
  Status Release();

  const LeaseInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

 private:
  Lease(std::string path, LeaseInfo info, LeaseOptions options)
      : path_(std::move(path)), info_(std::move(info)), options_(options) {}
  std::string path_;
  LeaseInfo info_;
  LeaseOptions options_;
  bool held_ = true;
};

}  // namespace fb
