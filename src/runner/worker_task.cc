#include "runner/worker_task.h"

#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "common/sha256.h"
#include "model/import/model_loader.h"
#include "runner/file_executor.h"
#include "runner/job_db.h"
#include "runner/spot_notice.h"
#include "runner/task_recorder.h"

namespace fb {

Result<WorkerSummary> RunWorkerTask(const WorkerTaskOptions& f, const std::atomic<bool>& stop, std::FILE* log,
                                    const GetEnv& getenv_in) {
  GetEnv env = getenv_in ? getenv_in : GetEnv([](const char* n) { return std::getenv(n); });
  auto env_or = [&](const char* name, const std::string& fallback) {
    const char* v = env(name);
    return v && *v ? std::string(v) : fallback;
  };
  WorkerConfig c;
  c.input = f.input.empty() ? env_or("INPUT_DIR", "") : f.input;
  c.output = f.output.empty() ? env_or("OUTPUT_DIR", "") : f.output;
  if (c.input.empty()) return InvalidArgument("worker: --input (or INPUT_DIR) is required");
  if (c.output.empty()) return InvalidArgument("worker: --output (or OUTPUT_DIR) is required");
  if (f.model.empty() && f.exec.empty()) return InvalidArgument("worker: --model or --exec is required");
  FB_ASSIGN_OR_RETURN(const ArrayTask task, ResolveArrayTask(f.index, f.count, env));
  FB_ASSIGN_OR_RETURN(c.shard_by, ParseShardBy(f.shard_by));
  c.index = task.index;
  c.count = task.count;
  FB_ASSIGN_OR_RETURN(
      c.schedule, ParseSchedule(f.schedule.empty() ? env_or("FORESTBATCH_SCHEDULE", "static") : f.schedule));
  c.lease_seconds = f.lease_seconds;
  c.retries = f.retries;
  c.backoff_seconds = f.backoff_seconds;
  c.grace_seconds = f.grace_seconds;
  c.overwrite = f.overwrite;
  c.verify = f.verify;
  c.job = f.job.empty() ? env_or("AWS_BATCH_JOB_ID", "") : f.job;
  c.filter = {f.include, f.exclude};

  // What makes each output, and the fingerprint of what shapes it.
  std::unique_ptr<FileExecutor> executor;
  if (!f.model.empty()) {
    FB_ASSIGN_OR_RETURN(auto ms, StorageFor(f.model));
    FB_ASSIGN_OR_RETURN(const std::string bytes, ms->ReadAll(f.model));
    c.model_sha256 = Sha256Hex(bytes);
    if (f.exec.empty()) {
      FB_ASSIGN_OR_RETURN(Forest loaded, LoadModelBytes(bytes, f.model));
      FB_ASSIGN_OR_RETURN(Forest forest, f.predict.SelectTrees(std::move(loaded)));
      FB_ASSIGN_OR_RETURN(PredictOptions opts, f.predict.Resolve(f.threads));
      FB_ASSIGN_OR_RETURN(auto p,
                          FilePredictor::Create(std::make_shared<const Forest>(std::move(forest)), opts));
      executor = MakePredictorExecutor(std::move(p));
      c.output_format = opts.format;
      c.options = f.predict.Fingerprint();
    }
  }
  if (!f.exec.empty()) {
    FB_ASSIGN_OR_RETURN(executor, MakeCommandExecutor(f.exec, f.shell));
    c.options = fmt::format("exec shell={} command={}", f.shell ? 1 : 0, f.exec);
  }

  std::unique_ptr<JobDb> db;
  if (!f.state.empty()) {
    if (c.job.empty()) return InvalidArgument("worker: --state needs --job");
    FB_ASSIGN_OR_RETURN(db, JobDb::Open(f.state));
  }
  fmt::print(log, "worker {} of {} (from {}), input {}, output {}\n", c.index + 1, c.count, task.source,
             c.input, c.output);
  std::fflush(log);
  FB_ASSIGN_OR_RETURN(auto in, StorageFor(c.input));
  FB_ASSIGN_OR_RETURN(auto out, StorageFor(c.output));
  std::shared_ptr<Storage> claims_storage;
  if (c.schedule == Schedule::kDynamic) {
    FB_ASSIGN_OR_RETURN(c.claims_root, ClaimsRootFor(f.claims, c.output, c.job));
    FB_ASSIGN_OR_RETURN(claims_storage, StorageFor(c.claims_root));
    c.claims_storage = claims_storage.get();
  }
  // On EC2 Spot: stop taking new files once the interruption notice appears.
  FB_ASSIGN_OR_RETURN(auto spot, SpotNoticeConfig(f.spot_notice, f.spot_endpoint, env));
  std::atomic<bool> drain{false};
  std::unique_ptr<SpotNoticeWatcher> watcher;
  if (spot.has_value()) {
    c.drain = &drain;
    watcher = std::make_unique<SpotNoticeWatcher>(*spot, [&drain](const SpotNotice& n) {
      fmt::print(stderr, "forestbatch: Spot interruption notice ({} at {}): taking no new files\n", n.action,
                 n.time);
      drain.store(true);
    });
  }
  TaskRecorder recorder(db.get(), c.job, c.index, log);
  auto sum = RunWorker(c, *in, *out, *executor, stop, &recorder);
  if (watcher) watcher->Stop();
  FB_RETURN_IF_ERROR(sum.status());
  fmt::print(
      log, "worker {} of {}: {} files: {} done, {} skipped, {} failed, {} abandoned; {} rows{}{}{}\n",
      c.index + 1, c.count, sum->shard_files, sum->done, sum->skipped, sum->failed, sum->abandoned, sum->rows,
      sum->temporaries_removed ? fmt::format("; removed {} stale temporaries", sum->temporaries_removed) : "",
      c.schedule == Schedule::kDynamic
          ? fmt::format("; dynamic: {} taken over, {} lost to other tasks", sum->takeovers, sum->lost)
          : "",
      sum->interrupted ? "; interrupted" : "");
  if (!recorder.db_status().ok()) {
    fmt::print(stderr, "forestbatch: warning: job records incomplete: {}\n", recorder.db_status().ToString());
  }
  std::fflush(log);
  return sum;
}

}  // namespace fb
