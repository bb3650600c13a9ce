// `forestbatch run` (a local array job) and `forestbatch resume JOB`.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "cli/run_options.h"
#include "common/shell_quote.h"
#include "model/import/model_loader.h"
#include "runner/file_executor.h"
#include "runner/job_db.h"
#include "runner/local_job.h"
#include "scaleout/estimate.h"

namespace fb::cli {
namespace {

struct RunFlags {
  JobSpec spec;
  std::string shard_by = "count";
  std::string schedule = "static";
  std::string state = ".forestbatch";
  std::string progress = "auto";
  bool json = false;
  std::string price_text;
  std::optional<double> price;
  bool estimate = false;
  std::optional<EstimateRecord> estimate_record;
  PredictFlags predict;
};

RunOptions MakeRunOptions(const RunFlags& f) {
  RunOptions o;
  o.state_dir = f.state;
  o.progress_bar = f.progress == "bar" || (f.progress == "auto" && ::isatty(2));
  o.progress = f.progress == "none" || f.json ? nullptr : stderr;
  o.price_per_vcpu_hour = f.price;
  o.estimate = f.estimate_record;
  return o;
}

// The exact command that finishes a job that did not succeed, runnable from
// any folder: the state folder absolute, every word shell-quoted.
std::string ResumeCommandFor(const std::string& job, const std::string& state) {
  std::error_code ec;
  std::string abs = std::filesystem::absolute(state, ec).lexically_normal().string();
  if (ec) abs = state;
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return fmt::format("forestbatch resume {} --state {}", ShellQuote(job), ShellQuote(abs));
}

int Finish(const Result<JobOutcome>& r, const RunFlags& f) {
  if (!r.ok()) return ReportError(r.status());
  // Said on stderr, with --json too: an interrupted, cancelled or partly
  // failed job is resumed by this command (failed files are tried again).
  if (r->state != JobState::kSucceeded) {
    fmt::print(stderr, "forestbatch: job {} {}; to resume it: {}\n", r->job, StateName(r->state),
               ResumeCommandFor(r->job, f.state));
  }
  if (f.json) {
    auto db = JobDb::Open(f.state);
    if (!db.ok()) return ReportError(db.status());
    auto j = JobStatusJson(**db, r->job, f.state, f.price);
    if (!j.ok()) return ReportError(j.status());
    fmt::print("{}", *j);
  } else {
    fmt::print("{}", SummaryTable(*r, f.price));
    fmt::print("job {}: {} ({} done now, {} already done, {} failed); catalogue {}\n", r->job,
               StateName(r->state), r->done_this_run, r->counts.skipped, r->counts.failed, r->catalog);
    if (r->state != JobState::kSucceeded)
      fmt::print("see: forestbatch status {} --state {}\n", r->job, f.state);
  }
  return JobExitCode(r->state);
}

// Fails early (and once) on a model or option the predictor cannot use,
// rather than in every worker.
Status CheckModel(const RunFlags& f) {
  if (!f.spec.exec.empty()) return MakeCommandExecutor(f.spec.exec, f.spec.shell).status();
  if (f.spec.model.empty()) return Status::Ok();
  FB_ASSIGN_OR_RETURN(auto storage, StorageFor(f.spec.model));
  FB_ASSIGN_OR_RETURN(std::string bytes, storage->ReadAll(f.spec.model));
  FB_ASSIGN_OR_RETURN(Forest loaded, LoadModelBytes(bytes, f.spec.model));
  FB_ASSIGN_OR_RETURN(Forest forest, f.predict.SelectTrees(std::move(loaded)));
  FB_ASSIGN_OR_RETURN(PredictOptions opts, f.predict.Resolve(1));
  FB_ASSIGN_OR_RETURN(auto p, FilePredictor::Create(std::make_shared<const Forest>(std::move(forest)), opts));
  return Status::Ok();
}

// Resolves --price-per-vcpu-hour / FORESTBATCH_PRICE before any work starts.
Status ResolvePriceFlag(RunFlags& f) {
  FB_ASSIGN_OR_RETURN(f.price, PriceFrom(f.price_text));
  return Status::Ok();
}

int RunCommand(RunFlags& f) {
  InstallStopHandlers();
  if (Status p = ResolvePriceFlag(f); !p.ok()) return ReportError(p);
  if (f.spec.model.empty() && f.spec.exec.empty())
    return ReportError(InvalidArgument("run: --model or --exec is required"));
  auto sb = ParseShardBy(f.shard_by);
  if (!sb.ok()) return ReportError(sb.status());
  f.spec.shard_by = *sb;
  auto sched = ParseSchedule(f.schedule);
  if (!sched.ok()) return ReportError(sched.status());
  f.spec.schedule = *sched;
  if (f.spec.exec.empty()) f.spec.worker_args = f.predict.AsArgs();
  Status s = CheckModel(f);
  if (!s.ok()) return ReportError(s);
  if (f.estimate) {
    fmt::print(stderr, "estimate: timing one sample input before the job...\n");
    auto e = EstimateLocalRun("/proc/self/exe", f.spec, f.price);
    if (!e.ok()) return ReportError(std::move(e).take_status().Prefix("run --estimate"));
    fmt::print(stderr, "{}", EstimateReport(e->estimate, e->sample));
    f.estimate_record = ToEstimateRecord(e->estimate, e->sample);
  }
  return Finish(RunLocalJob(f.spec, "", MakeRunOptions(f), g_stop_requested), f);
}

}  // namespace

CommandSpec RunCommandSpec() {
  return {"run", "run the whole array job on this machine: N workers, resumable, exactly once",
          [](CLI::App* sub) {
            auto f = std::make_shared<RunFlags>();
            JobSpec& s = f->spec;
            sub->add_option("--model,-m", s.model,
                            "model file (sklearn pickle/joblib, XGBoost, LightGBM, .fbm)");
            sub->add_option("--input,-i", s.input, "input folder, prefix or file")->required();
            sub->add_option("--output,-o", s.output, "output folder or prefix")->required();
            sub->add_option("--workers,-w", s.workers, "worker processes (default: one per core)")
                ->check(CLI::Range(1, 4096));
            sub->add_option("--threads", s.threads, "threads per worker (default: cores / workers)")
                ->check(CLI::Range(1, 4096));
            sub->add_option("--shard-by", f->shard_by, "count (the seed's rule) or bytes")
                ->check(CLI::IsMember({"count", "bytes"}));
            sub->add_option("--schedule", f->schedule,
                            "static (fixed slices, --shard-by) or dynamic (each worker claims the next "
                            "free file; see docs/scale-out.md)")
                ->check(CLI::IsMember({"static", "dynamic"}));
            sub->add_option("--lease", s.lease_seconds,
                            "dynamic: seconds without a heartbeat after which a file's claim is taken over")
                ->check(CLI::Range(1.0, 86400.0));
            sub->add_option("--retries", s.retries, "retries per file after the first attempt")
                ->check(CLI::Range(0, 100));
            sub->add_option("--backoff", s.backoff_seconds, "seconds before a file's first retry (doubles)")
                ->check(CLI::Range(0.0, 3600.0));
            sub->add_option("--grace", s.grace_seconds, "seconds a file may finish after SIGTERM")
                ->check(CLI::Range(0.0, 3600.0));
            sub->add_option("--task-retries", s.task_retries, "restarts of a task whose worker dies")
                ->check(CLI::Range(0, 100));
            sub->add_option("--name", s.name, "job name (prefix of the job id)");
            sub->add_option("--exec", s.exec, "run 'CMD {input} {output}' per file instead of the predictor");
            sub->add_flag("--shell", s.shell, "run --exec through /bin/sh -c");
            sub->add_flag("--overwrite", s.overwrite, "replace outputs made by another model or options");
            sub->add_flag("--verify", s.verify, "hash existing outputs before skipping them");
            sub->add_option("--state", f->state, "job records folder (default ./.forestbatch)");
            sub->add_option("--progress", f->progress, "auto, bar, lines or none")
                ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
            sub->add_flag("--json", f->json, "print the job's status as JSON at the end");
            sub->add_flag("--estimate", f->estimate,
                          "first time one sample input and project the job's duration and cost; the "
                          "projection is kept with the job (status, serve show it against the actual)");
            AddPriceFlag(sub, &f->price_text);
            f->predict.Add(sub);
            sub->add_option("--include", s.include,
                            "only input files matching GLOB (repeatable; see forestbatch worker --help)")
                ->expected(1)
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            sub->add_option("--exclude", s.exclude, "skip input files matching GLOB (repeatable)")
                ->expected(1)
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            return std::function<int()>([f] { return RunCommand(*f); });
          }};
}

CommandSpec ResumeCommand() {
  return {"resume", "run a job again: only what is not done yet", [](CLI::App* sub) {
            auto f = std::make_shared<RunFlags>();
            auto job = std::make_shared<std::string>();
            sub->add_option("job", *job, "job id")->required();
            sub->add_option("--state", f->state, "job records folder (default ./.forestbatch)");
            sub->add_option("--progress", f->progress, "auto, bar, lines or none")
                ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
            sub->add_flag("--json", f->json, "print the job's status as JSON at the end");
            AddPriceFlag(sub, &f->price_text);
            return std::function<int()>([f, job] {
              InstallStopHandlers();
              if (Status p = ResolvePriceFlag(*f); !p.ok()) return ReportError(p);
              auto db = JobDb::Open(f->state);
              if (!db.ok()) return ReportError(db.status());
              auto rec = (*db)->GetJob(*job);
              if (!rec.ok()) return ReportError(rec.status());
              if (!*rec) return ReportError(NotFound("no job '" + *job + "' in " + f->state));
              auto spec = JobSpec::FromJson((*rec)->spec_json);
              if (!spec.ok()) return ReportError(spec.status());
              db->reset();
              return Finish(RunLocalJob(*spec, *job, MakeRunOptions(*f), g_stop_requested), *f);
            });
          }};
}

}  // namespace fb::cli
