// Worker: one task of an array job. Lists the input and, with the static
// schedule, computes the shard plan every task computes; with the dynamic
// schedule, claims the next file no task holds (runner/claims.h) until every
// file is done or failed. Either way it makes each of its files' outputs exactly once:
// skips outputs whose manifest matches, retries failures with backoff,
// records each file through a WorkerListener, and stops cleanly when `stop`
// becomes true (no new files; the current one may finish within the grace
// period, else it is abandoned and leaves no trace).
//
// With the static schedule and a local output, an executor that leaves its
// outputs' commits to the caller (FileExecutor::Prepare: the built-in
// predictor) has each output committed, and then its manifest written, on a
// second thread while the next file is predicted (the fsyncs overlap the
// work); the file counts as done, and is recorded, only once both are on
// disk, and RunWorker returns only after the last one.
//
// Thread safety: RunWorker runs on the calling thread (plus one watchdog
// thread for the grace period, and the commit thread above); the listener
// is called from the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/file_predictor.h"
#include "runner/claims.h"
#include "runner/file_executor.h"
#include "runner/shard_plan.h"
#include "runner/states.h"
#include "storage/storage.h"

namespace fb {

struct WorkerConfig {
  std::string input;   // folder, prefix or single file
  std::string output;  // folder or prefix
  int64_t index = 0;
  int64_t count = 1;
  ShardBy shard_by = ShardBy::kCount;
  // kDynamic: claims under `claims_root` (on `claims_storage`, default the
  // output's storage) instead of the shard plan.
  Schedule schedule = Schedule::kStatic;
  std::string claims_root;
  Storage* claims_storage = nullptr;
  double lease_seconds = 60;  // a claim not renewed for this long is taken over
  // Longest wait between passes over the claims when every open file is held
  // by others (0: lease / 6, at most 1 s); the heartbeat renews every lease / 6.
  // The waits start at 50 ms (or this, if shorter) and double up to it, from
  // each pass that claimed nothing: a task waiting on the job's last files
  // ends soon after they are done (with a fixed 1 s wait the job's tail grew
  // by up to a second), while a long wait still costs one pass a second.
  double poll_seconds = 0;
  int retries = 3;               // attempts after the first
  double backoff_seconds = 1.0;  // before retry k: backoff * 2^(k-1), at most 30 s
  bool overwrite = false;        // replace outputs made by another model or options
  bool verify = false;           // hash existing outputs before skipping them
  double grace_seconds = 20.0;   // after stop: how long the current file may still run
  std::string model_sha256;
  std::string options;  // output-shaping options fingerprint
  std::string job;      // recorded in manifests
  // When set and true (e.g. a Spot interruption notice, runner/spot_notice.h):
  // take no new file, but let the current one finish without the grace limit.
  const std::atomic<bool>* drain = nullptr;
  // Which listed files are inputs (hidden and metadata files never are).
  InputFilter filter;
  // The output name of an input (pipeline/file_predictor.h's OutputNameFor);
  // unset (--exec): the input's name without its compression suffix.
  std::optional<ResultFormat> output_format;
};

// The output path, relative to the output folder, of an input's relative path.
std::string OutputRelativeFor(const WorkerConfig& config, const std::string& relative);

struct FileEvent {
  FileState state = FileState::kRunning;
  std::string relative;
  std::string input;
  std::string output;
  int attempt = 0;    // 1-based attempt this event is about
  FileStats stats;    // kDone
  std::string error;  // kFailed, kRetrying, kAbandoned; reason for kSkipped; kRunning: a takeover
  double seconds = 0;
};

class WorkerListener {
 public:
  virtual ~WorkerListener() = default;
  // The task's shard, once planned (relative paths, in processing order).
  virtual void OnShard(const std::vector<ObjectInfo>& shard, size_t total_files) {}
  // Dynamic schedule: no fixed shard; files are claimed under `claims_root`.
  virtual void OnDynamic(size_t total_files, const std::string& claims_root) {}
  virtual void OnFile(const FileEvent& event) {}
};

struct WorkerSummary {
  size_t total_files = 0;  // in the whole plan
  size_t shard_files = 0;  // dynamic: the files this task claimed
  size_t takeovers = 0;    // dynamic: claims taken from dead or silent tasks
  size_t lost = 0;         // dynamic: claims lost to another task mid-file
  size_t done = 0, skipped = 0, failed = 0, abandoned = 0;
  uint64_t rows = 0;
  bool interrupted = false;
  size_t temporaries_removed = 0;
};

// Sleeps `seconds` unless `stop` becomes true; tests replace it.
using SleepFn = std::function<void(double seconds, const std::atomic<bool>& stop)>;

// Errors returned are those that stop the whole task (cannot list the input);
// per-file failures are counted in the summary.
Result<WorkerSummary> RunWorker(const WorkerConfig& config, Storage& in, Storage& out, FileExecutor& executor,
                                const std::atomic<bool>& stop, WorkerListener* listener,
                                const SleepFn& sleep = nullptr);

// Removes temporaries (common/atomic_file.h's rule) under the local folder
// `root` that belong to one of `targets` (paths relative to root: their
// TemporaryPrefixFor) and whose writer process is gone. Returns how many it removed.
size_t RemoveStaleTemporaries(const std::string& root, const std::vector<std::string>& targets);

}  // namespace fb
