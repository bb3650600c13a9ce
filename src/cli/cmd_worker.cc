// `forestbatch worker`: one task of an array job (AWS Batch, Kubernetes,
// Slurm, or a task started by `run`).
#include <memory>

#include "cli/command.h"
#include "cli/run_options.h"
#include "runner/worker_task.h"

namespace fb::cli {
namespace {

struct WorkerFlags {
  WorkerTaskOptions task;
  PredictFlags predict;
  InputFilterFlags inputs;
};

int RunWorkerCommand(WorkerFlags f) {
  InstallStopHandlers();
  f.task.predict = f.predict;
  f.task.include = f.inputs.include;
  f.task.exclude = f.inputs.exclude;
  auto sum = RunWorkerTask(f.task, g_stop_requested, stdout);
  if (!sum.ok()) return ReportError(sum.status());
  if (sum->interrupted) return kExitInterrupted;
  return sum->failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace

CommandSpec WorkerCommand() {
  return {
      "worker", "one task of an array job: process this task's share of the input files", [](CLI::App* sub) {
        auto f = std::make_shared<WorkerFlags>();
        sub->add_option("--model,-m", f->task.model,
                        "model file (sklearn pickle/joblib, XGBoost, LightGBM, .fbm)");
        sub->add_option("--input,-i", f->task.input, "input folder, prefix or file (default: $INPUT_DIR)");
        sub->add_option("--output,-o", f->task.output, "output folder or prefix (default: $OUTPUT_DIR)");
        sub->add_option(
            "--index", f->task.index,
            "this task's index (default: AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX, Slurm)");
        sub->add_option("--count", f->task.count,
                        "number of tasks (default: NUMBER_OF_WORKERS or AWS_BATCH_JOB_ARRAY_SIZE, ...)");
        sub->add_option("--threads", f->task.threads, "prediction threads (0: all cores)");
        sub->add_option("--shard-by", f->task.shard_by, "count (the seed's rule) or bytes")
            ->check(CLI::IsMember({"count", "bytes"}));
        sub->add_option("--schedule", f->task.schedule,
                        "static: this task's fixed slice (--shard-by); dynamic: claim the next free file "
                        "until none is left (default: $FORESTBATCH_SCHEDULE or static)")
            ->check(CLI::IsMember({"static", "dynamic"}));
        sub->add_option("--lease", f->task.lease_seconds,
                        "dynamic: seconds a claim lives without a heartbeat before another task takes it "
                        "over (heartbeat every lease/6)")
            ->check(CLI::Range(0.05, 86400.0));
        sub->add_option("--claims", f->task.claims,
                        "dynamic: folder or S3 prefix shared by all tasks of this run (default: "
                        "OUTPUT/.forestbatch-claims/<run id>)");
        sub->add_option("--retries", f->task.retries, "retries per file after the first attempt")
            ->check(CLI::Range(0, 100));
        sub->add_option("--backoff", f->task.backoff_seconds,
                        "seconds before the first retry (doubles each time)")
            ->check(CLI::Range(0.0, 3600.0));
        sub->add_option("--grace", f->task.grace_seconds, "seconds the current file may finish after SIGTERM")
            ->check(CLI::Range(0.0, 3600.0));
        sub->add_flag("--overwrite", f->task.overwrite, "replace outputs made by another model or options");
        sub->add_flag("--verify", f->task.verify, "hash existing outputs before skipping them");
        sub->add_option("--exec", f->task.exec,
                        "run 'CMD {input} {output}' per file instead of the predictor");
        sub->add_flag("--shell", f->task.shell, "run --exec through /bin/sh -c");
        sub->add_option("--state", f->task.state, "job database folder (optional for a worker)");
        sub->add_option("--job", f->task.job,
                        "job id for records and manifests (default: $AWS_BATCH_JOB_ID)");
        sub->add_option("--spot-notice", f->task.spot_notice,
                        "watch EC2's Spot interruption notice: auto (under AWS Batch), on, off "
                        "(default: $FORESTBATCH_SPOT_NOTICE or auto)")
            ->check(CLI::IsMember({"auto", "on", "off"}));
        sub->add_option(
            "--spot-endpoint", f->task.spot_endpoint,
            "instance metadata endpoint (default: $FORESTBATCH_SPOT_ENDPOINT or http://169.254.169.254)");
        f->predict.Add(sub);
        f->inputs.Add(sub);
        return std::function<int()>([f] { return RunWorkerCommand(*f); });
      }};
}

}  // namespace fb::cli
