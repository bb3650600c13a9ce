// `forestbatch worker`: one task of an array job (AWS Batch, Kubernetes,
// Slurm, or a task started by `run`).
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/run_options.h"
#include "model/import/model_loader.h"
#include "runner/array_task.h"
#include "runner/file_executor.h"
#include "runner/job_db.h"
#include "runner/manifest.h"
#include "runner/spot_notice.h"
#include "runner/task_recorder.h"
#include "runner/worker.h"

namespace fb::cli {
namespace {

struct WorkerFlags {
  std::string model, input, output, shard_by = "count", exec, state, job;
  std::string spot_notice, spot_endpoint;
  std::string schedule, claims;
  double lease = 60;
  std::optional<int64_t> index, count;
  int threads = 0, retries = 3;
  double backoff = 1.0, grace = 20.0;
  bool shell = false, overwrite = false, verify = false;
  PredictFlags predict;
  InputFilterFlags inputs;
};

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int RunWorkerCommand(const WorkerFlags& f) {
  InstallStopHandlers();
  const std::string input = f.input.empty() ? EnvOr("INPUT_DIR", "") : f.input;
  const std::string output = f.output.empty() ? EnvOr("OUTPUT_DIR", "") : f.output;
  if (input.empty()) return ReportError(InvalidArgument("worker: --input (or INPUT_DIR) is required"));
  if (output.empty()) return ReportError(InvalidArgument("worker: --output (or OUTPUT_DIR) is required"));
  if (f.model.empty() && f.exec.empty())
    return ReportError(InvalidArgument("worker: --model or --exec is required"));
  auto task = ResolveArrayTask(f.index, f.count);
  if (!task.ok()) return ReportError(task.status());
  auto shard_by = ParseShardBy(f.shard_by);
  if (!shard_by.ok()) return ReportError(shard_by.status());

  WorkerConfig c;
  c.input = input;
  c.output = output;
  c.index = task->index;
  c.count = task->count;
  c.shard_by = *shard_by;
  auto schedule = ParseSchedule(f.schedule.empty() ? EnvOr("FORESTBATCH_SCHEDULE", "static") : f.schedule);
  if (!schedule.ok()) return ReportError(schedule.status());
  c.schedule = *schedule;
  c.lease_seconds = f.lease;
  c.retries = f.retries;
  c.backoff_seconds = f.backoff;
  c.grace_seconds = f.grace;
  c.overwrite = f.overwrite;
  c.verify = f.verify;
  c.job = f.job.empty() ? EnvOr("AWS_BATCH_JOB_ID", "") : f.job;
  c.filter = {f.inputs.include, f.inputs.exclude};

  std::unique_ptr<FileExecutor> executor;
  if (!f.model.empty()) {
    auto ms = StorageFor(f.model);
    if (!ms.ok()) return ReportError(ms.status());
    auto bytes = (*ms)->ReadAll(f.model);
    if (!bytes.ok()) return ReportError(bytes.status());
    c.model_sha256 = Sha256Hex(*bytes);
    if (f.exec.empty()) {
      auto loaded = LoadModelBytes(*bytes, f.model);
      if (!loaded.ok()) return ReportError(loaded.status());
      auto forest = f.predict.SelectTrees(std::move(loaded).value());
      if (!forest.ok()) return ReportError(forest.status());
      auto opts = f.predict.Resolve(f.threads);
      if (!opts.ok()) return ReportError(opts.status());
      auto p = FilePredictor::Create(std::make_shared<const Forest>(std::move(forest).value()), *opts);
      if (!p.ok()) return ReportError(p.status());
      executor = MakePredictorExecutor(std::move(p).value());
      c.output_format = opts->format;
      c.options = f.predict.Fingerprint();
    }
  }
  if (!f.exec.empty()) {
    auto e = MakeCommandExecutor(f.exec, f.shell);
    if (!e.ok()) return ReportError(e.status());
    executor = std::move(e).value();
    c.options = fmt::format("exec shell={} command={}", f.shell ? 1 : 0, f.exec);
  }

  std::unique_ptr<JobDb> db;
  if (!f.state.empty()) {
    if (c.job.empty()) return ReportError(InvalidArgument("worker: --state needs --job"));
    auto d = JobDb::Open(f.state);
    if (!d.ok()) return ReportError(d.status());
    db = std::move(d).value();
  }
  fmt::print(stdout, "worker {} of {} (from {}), input {}, output {}\n", c.index + 1, c.count, task->source,
             input, output);
  std::fflush(stdout);
  auto in = StorageFor(input);
  if (!in.ok()) return ReportError(in.status());
  auto out = StorageFor(output);
  if (!out.ok()) return ReportError(out.status());
  std::shared_ptr<Storage> claims_storage;
  if (c.schedule == Schedule::kDynamic) {
    auto root = ClaimsRootFor(f.claims, output, c.job);
    if (!root.ok()) return ReportError(root.status());
    c.claims_root = *root;
    auto cs = StorageFor(c.claims_root);
    if (!cs.ok()) return ReportError(cs.status());
    claims_storage = std::move(cs).value();
    c.claims_storage = claims_storage.get();
  }
  // On EC2 Spot: stop taking new files once the interruption notice appears.
  auto spot = SpotNoticeConfig(f.spot_notice, f.spot_endpoint);
  if (!spot.ok()) return ReportError(spot.status());
  std::atomic<bool> drain{false};
  std::unique_ptr<SpotNoticeWatcher> watcher;
  if (spot->has_value()) {
    c.drain = &drain;
    watcher = std::make_unique<SpotNoticeWatcher>(**spot, [&drain](const SpotNotice& n) {
      fmt::print(stderr, "forestbatch: Spot interruption notice ({} at {}): taking no new files\n", n.action,
                 n.time);
      drain.store(true);
    });
  }
  TaskRecorder recorder(db.get(), c.job, c.index, stdout);
  auto sum = RunWorker(c, **in, **out, *executor, g_stop_requested, &recorder);
  if (watcher) watcher->Stop();
  if (!sum.ok()) return ReportError(sum.status());
  fmt::print(
      stdout, "worker {} of {}: {} files: {} done, {} skipped, {} failed, {} abandoned; {} rows{}{}{}\n",
      c.index + 1, c.count, sum->shard_files, sum->done, sum->skipped, sum->failed, sum->abandoned, sum->rows,
      sum->temporaries_removed ? fmt::format("; removed {} stale temporaries", sum->temporaries_removed) : "",
      c.schedule == Schedule::kDynamic
          ? fmt::format("; dynamic: {} taken over, {} lost to other tasks", sum->takeovers, sum->lost)
          : "",
      sum->interrupted ? "; interrupted" : "");
  if (!recorder.db_status().ok()) {
    fmt::print(stderr, "forestbatch: warning: job records incomplete: {}\n", recorder.db_status().ToString());
  }
  std::fflush(stdout);
  if (sum->interrupted) return kExitInterrupted;
  return sum->failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace

CommandSpec WorkerCommand() {
  return {
      "worker", "one task of an array job: process this task's share of the input files", [](CLI::App* sub) {
        auto f = std::make_shared<WorkerFlags>();
        sub->add_option("--model,-m", f->model,
                        "model file (sklearn pickle/joblib, XGBoost, LightGBM, .fbm)");
        sub->add_option("--input,-i", f->input, "input folder, prefix or file (default: $INPUT_DIR)");
        sub->add_option("--output,-o", f->output, "output folder or prefix (default: $OUTPUT_DIR)");
        sub->add_option(
            "--index", f->index,
            "this task's index (default: AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX, Slurm)");
        sub->add_option("--count", f->count,
                        "number of tasks (default: NUMBER_OF_WORKERS or AWS_BATCH_JOB_ARRAY_SIZE, ...)");
        sub->add_option("--threads", f->threads, "prediction threads (0: all cores)");
        sub->add_option("--shard-by", f->shard_by, "count (the seed's rule) or bytes")
            ->check(CLI::IsMember({"count", "bytes"}));
        sub->add_option("--schedule", f->schedule,
                        "static: this task's fixed slice (--shard-by); dynamic: claim the next free file "
                        "until none is left (default: $FORESTBATCH_SCHEDULE or static)")
            ->check(CLI::IsMember({"static", "dynamic"}));
        sub->add_option("--lease", f->lease,
                        "dynamic: seconds a claim lives without a heartbeat before another task takes it "
                        "over (heartbeat every lease/6)")
            ->check(CLI::Range(0.05, 86400.0));
        sub->add_option("--claims", f->claims,
                        "dynamic: folder or S3 prefix shared by all tasks of this run (default: "
                        "OUTPUT/.forestbatch-claims/<run id>)");
        sub->add_option("--retries", f->retries, "retries per file after the first attempt")
            ->check(CLI::Range(0, 100));
        sub->add_option("--backoff", f->backoff, "seconds before the first retry (doubles each time)")
            ->check(CLI::Range(0.0, 3600.0));
        sub->add_option("--grace", f->grace, "seconds the current file may finish after SIGTERM")
            ->check(CLI::Range(0.0, 3600.0));
        sub->add_flag("--overwrite", f->overwrite, "replace outputs made by another model or options");
        sub->add_flag("--verify", f->verify, "hash existing outputs before skipping them");
        sub->add_option("--exec", f->exec, "run 'CMD {input} {output}' per file instead of the predictor");
        sub->add_flag("--shell", f->shell, "run --exec through /bin/sh -c");
        sub->add_option("--state", f->state, "job database folder (optional for a worker)");
        sub->add_option("--job", f->job, "job id for records and manifests (default: $AWS_BATCH_JOB_ID)");
        sub->add_option("--spot-notice", f->spot_notice,
                        "watch EC2's Spot interruption notice: auto (under AWS Batch), on, off "
                        "(default: $FORESTBATCH_SPOT_NOTICE or auto)")
            ->check(CLI::IsMember({"auto", "on", "off"}));
        sub->add_option(
            "--spot-endpoint", f->spot_endpoint,
            "instance metadata endpoint (default: $FORESTBATCH_SPOT_ENDPOINT or http://169.254.169.254)");
        f->predict.Add(sub);
        f->inputs.Add(sub);
        return std::function<int()>([f] { return RunWorkerCommand(*f); });
      }};
}

}  // namespace fb::cli
