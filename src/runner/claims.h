// ClaimBook: dynamic scheduling's claims. Every task of an array job lists
// the same files; instead of a fixed slice, each task claims the next file
// nobody holds, processes it, and marks it done. A claim is one small JSON
// object per input file under a claims folder (or S3 prefix) shared by every
// task of one run:
//
//   taken      Storage::WriteIfAbsent (link(2) of a complete file locally and
//              on NFS/Lustre, `If-None-Match: *` on S3): of two tasks
//              claiming one file, exactly one wins;
//   renewed    the owner rewrites it with `renewals` + 1 (atomic replace)
//              every heartbeat while it works;
//   finished   the owner replaces it with state "done" (after the output and
//              its manifest are written) or "failed" (after its retries);
//   given back deleted when a stopped task abandons the file;
//   taken over when its owner is known dead (same host: the PID is gone or
//              reused, or the host rebooted; runner/process_identity.h), or
//              when this reader has seen the same (token, renewals) for
//              `lease_seconds` by its own monotonic clock. Contenders agree
//              on one taker through a takeover mark named by the dead claim's
//              token and renewal count (WriteIfAbsent again); the winner
//              re-reads the claim and replaces it only if it is unchanged.
//
// Clocks: no time written by one node is ever compared with another node's
// clock. Expiry is judged from renewal counters observed on the reader's own
// steady clock, so clock skew between nodes does not matter; what matters is
// that a renewing owner renews more often than `lease_seconds` (it renews
// every lease/6) and that a reader polls. The cost: a task that starts after
// an owner died waits a full lease before taking its files over.
//
// Claims only avoid doing work twice; they never decide what is done. The
// output and its manifest stay the truth: a task re-reads the manifest after
// winning a claim (a file finished and released meanwhile is skipped), and
// two tasks that do race on one file (a paused owner's claim taken over, then
// the owner resumes) each write the output atomically, so one complete output
// remains. A lost claim is noticed at the owner's next renewal, which cancels
// its work on the file.
//
// Thread safety: TryClaim, Finish and Abandon are called by the worker's
// thread; Renew may be called from a heartbeat thread at the same time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "runner/array_task.h"
#include "runner/process_identity.h"
#include "runner/states.h"
#include "storage/storage.h"

namespace fb {

enum class Schedule : uint8_t { kStatic, kDynamic };
Result<Schedule> ParseSchedule(std::string_view s);
const char* ScheduleName(Schedule s);

struct ClaimRecord {
  std::string file;  // the input's relative path
  ClaimState state = ClaimState::kClaimed;
  int64_t task = -1;  // the array task index of the owner
  std::string job;    // the owner's job id, for records
  ProcessIdentity owner;
  std::string token;     // random, new for every claim taken
  int64_t renewals = 0;  // the owner's heartbeat counter
  std::string error;     // state "failed": why

  std::string ToJson() const;
  static Result<ClaimRecord> FromJson(std::string_view json, const std::string& name);
};

struct ClaimOptions {
  double lease_seconds = 60;
  int64_t task = 0;
  std::string job;
  // The reader's monotonic clock in seconds; tests replace it.
  std::function<double()> now;
};

enum class ClaimOutcome : uint8_t {
  kClaimed,   // this task holds the file's claim now
  kHeld,      // another task holds a live claim (or is taking it over)
  kFinished,  // done or failed in this run
};

struct ClaimAttempt {
  ClaimOutcome outcome = ClaimOutcome::kHeld;
  bool takeover = false;              // kClaimed from a dead or expired owner
  std::optional<ClaimRecord> record;  // what was found (kHeld, kFinished, takeover)
};

class ClaimBook {
 public:
  // `root`: the claims folder or S3 prefix of this run.
  ClaimBook(Storage& storage, std::string root, ClaimOptions options);

  // Checks at start that the storage can make claims under `root` (an
  // exclusive create of a probe object, a second create that must be
  // refused, and its removal). Unsupported, with what to do instead, where
  // it cannot: a store without conditional writes, a file system without
  // hard links.
  Status Probe();

  Result<ClaimAttempt> TryClaim(const std::string& file);
  // Heartbeat for a held claim: Cancelled ("claim lost") when another task
  // replaced it; the caller must stop working on the file.
  Status Renew(const std::string& file);
  // Marks a held file done (its output and manifest are written: always
  // recorded, even over a claim taken over meanwhile) or failed (recorded
  // only while the claim is still this task's).
  Status Finish(const std::string& file, bool ok, const std::string& error = "");
  // Gives a held file back (the task stops before finishing it).
  Status Abandon(const std::string& file);

  // Where the claim of `file` lives.
  std::string ClaimUri(const std::string& file) const;
  const std::string& root() const { return root_; }
  // Every claim under the root (for `status` and tests), keyed by file.
  Result<std::map<std::string, ClaimRecord>> ReadAll();

 private:
  struct Seen {
    std::string token;
    int64_t renewals = 0;
    double since = 0;
  };
  double Now() const;
  Result<std::optional<ClaimRecord>> Read(const std::string& uri);
  ClaimRecord Fresh(const std::string& file, ClaimState state) const;
  // Has this reader watched `key`'s value (token, renewals) stay unchanged
  // for a whole lease? Records the observation.
  bool Expired(const std::string& key, const std::string& token, int64_t renewals);

  Storage& storage_;
  std::string root_;
  ClaimOptions o_;
  std::map<std::string, Seen> seen_;  // worker thread only
  mutable std::mutex mu_;
  std::map<std::string, ClaimRecord> held_;  // guarded by mu_
};

// The claims root every task of one run shares: `explicit_root` when given;
// else <output>/.forestbatch-claims/<run>, where <run> is the first of
// FORESTBATCH_RUN_ID, SLURM_ARRAY_JOB_ID, AWS_BATCH_JOB_ID (without the
// ":<index>" of an array child) and `job`. InvalidArgument when none is set
// (tasks could not know they belong to one run).
Result<std::string> ClaimsRootFor(const std::string& explicit_root, const std::string& output,
                                  const std::string& job, const GetEnv& getenv = nullptr);

}  // namespace fb
