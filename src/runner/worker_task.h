// RunWorkerTask: `forestbatch worker` as a library call. The task's options
// as its command line gives them, with the defaults array-job engines pass
// in the environment (INPUT_DIR, OUTPUT_DIR, FORESTBATCH_SCHEDULE,
// AWS_BATCH_JOB_ID, the task index and count: runner/array_task.h, the Spot
// notice: runner/spot_notice.h), become the worker's configuration, its file
// executor (the model's predictor, or an --exec command) with the options
// fingerprint its outputs' manifests carry, its storages and job records;
// then RunWorker does the task's share.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/predict_args.h"
#include "runner/array_task.h"
#include "runner/worker.h"

namespace fb {

struct WorkerTaskOptions {
  std::string model;          // with no exec: predict with it
  std::string input, output;  // "": $INPUT_DIR, $OUTPUT_DIR
  std::string shard_by = "count";
  std::string schedule;  // "": $FORESTBATCH_SCHEDULE, else static
  std::string claims;    // dynamic: the claims root ("": ClaimsRootFor's default)
  double lease_seconds = 60;
  std::optional<int64_t> index, count;  // unset: the array engine's (ResolveArrayTask)
  int threads = 0;                      // prediction threads (0: all cores)
  int retries = 3;
  double backoff_seconds = 1.0, grace_seconds = 20.0;
  bool overwrite = false, verify = false;
  std::string exec;  // per-file command instead of the predictor
  bool shell = false;
  std::string state;                       // job database folder ("": no records)
  std::string job;                         // "": $AWS_BATCH_JOB_ID
  std::string spot_notice, spot_endpoint;  // SpotNoticeConfig's flags
  std::vector<std::string> include, exclude;
  PredictArgs predict;
};

// Runs one task. `log` gets the task's lines (which task it is, each file's
// progress, the summary); a Spot notice is said on stderr. Errors are those
// that stop the task before or while it plans (options, model, storages,
// job database); per-file failures are counted in the summary. `getenv`
// defaults to the process environment.
Result<WorkerSummary> RunWorkerTask(const WorkerTaskOptions& options, const std::atomic<bool>& stop,
                                    std::FILE* log, const GetEnv& getenv = nullptr);

}  // namespace fb
