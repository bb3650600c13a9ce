// `forestbatch submit`: hands an array job of `forestbatch worker` tasks to
// Slurm, AWS Batch or Kubernetes (scaleout/submit.h), and `submit --status
// NAME` follows it on the engine (scaleout/submit_status.h).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "cli/run_options.h"
#include "common/cpu_limits.h"
#include "common/text_escape.h"
#include "runner/job_report.h"
#include "runner/shard_plan.h"
#include "scaleout/estimate.h"
#include "scaleout/submit.h"
#include "scaleout/submit_status.h"

namespace fb::cli {

// Also reached from `forestbatch status NAME` (cmd_jobs.cc) when NAME is a
// submitted job.
int ShowSubmittedStatus(const std::string& state_dir, const std::string& name, bool json) {
  auto rec = LoadSubmitRecord(state_dir, name);
  if (!rec.ok()) return ReportError(rec.status());
  auto st = QuerySubmittedJob(*rec);
  if (!st.ok()) return ReportError(st.status());
  if (json) {
    nlohmann::json j = RecordToJson(*rec);
    j["state"] = EngineJobStateToJson(*st);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} ({} job {}): {}\n", rec->name, EngineName(rec->engine), rec->job_id,
                             EngineJobStateLine(*st));
    if (rec->estimate) {
      std::cout << fmt::format(
          "estimate ({}): {} for {} tasks x {} vCPU, {:.1f} reserved vCPU-seconds; the engine's accounting "
          "has "
          "the actual (forestbatch does not see submitted workers' time)\n",
          rec->estimate->made_at, FormatDuration(rec->estimate->duration_seconds), rec->estimate->workers,
          rec->estimate->vcpus_per_task, rec->estimate->vcpu_seconds);
    }
  }
  if (!st->finished) return kExitOk;
  return st->failed ? kExitSomeFailed : kExitOk;
}

namespace {

struct SubmitFlags {
  std::string engine;
  std::string status_name;
  bool dry_run = false;
  bool json = false;
  std::string state_dir = ".forestbatch";
  std::vector<std::string> env;
  std::string cpus;
  std::string memory;
  bool estimate = false;
  std::string price_text;
  std::string schedule;
  double lease = 0;
  SubmitSpec spec;
  const CLI::App* app = nullptr;  // the subcommand, to see which options were given
};

constexpr const char* kSlurmGroup = "Slurm";
constexpr const char* kAwsGroup = "AWS Batch";
constexpr const char* kKubernetesGroup = "Kubernetes";

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// --estimate: times one sample input here and projects the job (printed;
// without --dry-run also kept in the submit record).
Result<EstimateRecord> EstimateJobCost(const SubmitFlags& f) {
  FB_ASSIGN_OR_RETURN(auto price, PriceFrom(f.price_text));
  FB_ASSIGN_OR_RETURN(double vcpus,
                      ParseVcpus(f.cpus.empty() ? std::to_string(f.spec.cpus_per_task) : f.cpus));
  FB_ASSIGN_OR_RETURN(EstimateJob job, ParseEstimateJob(f.spec.worker_args, f.spec.env));
  FB_ASSIGN_OR_RETURN(auto storage, StorageFor(job.input));
  FB_ASSIGN_OR_RETURN(auto files, ListInputs(*storage, job.input, job.output, job.filter));
  if (files.empty()) return NotFound("--estimate: no input files in " + job.input);
  const int cores = AvailableCpus();
  const int threads = std::clamp(static_cast<int>(std::ceil(vcpus)), 1, cores);
  const std::string self = SelfPath();  // this binary, here (--forestbatch names the tasks' one)
  std::cerr << fmt::format("timing one sample input ({} of {} files) with {} thread{}...\n",
                           MedianSample(files).relative, files.size(), threads, threads == 1 ? "" : "s");
  FB_ASSIGN_OR_RETURN(SampleTiming sample, TimeSample(self, job, MedianSample(files), threads));
  const Estimate e = ProjectEstimate(files, f.spec.workers, vcpus, job.shard_by, sample, price);
  (f.dry_run ? std::cout : std::cerr) << EstimateReport(e, sample);
  return ToEstimateRecord(e, sample);
}

int Run(SubmitFlags& f) {
  if (!f.status_name.empty()) return ShowSubmittedStatus(f.state_dir, f.status_name, f.json);
  std::optional<EstimateRecord> estimate;
  if (f.estimate) {
    auto e = EstimateJobCost(f);
    if (!e.ok()) return ReportError(e.status());
    // A dry run with no engine is the estimate alone.
    if (f.dry_run && f.engine.empty()) return kExitOk;
    estimate = std::move(*e);
  }
  if (f.engine.empty())
    return ReportError(InvalidArgument("--engine is required (slurm, aws-batch, kubernetes)"));
  auto engine = ParseEngine(f.engine);
  if (!engine.ok()) return ReportError(engine.status());
  SubmitSpec& s = f.spec;
  s.engine = *engine;
  if (s.name.empty()) s.name = DefaultJobName();
  for (const auto& kv : f.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      return ReportError(InvalidArgument(fmt::format("--env '{}': want NAME=VALUE", kv)));
    s.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (s.forestbatch_path.empty()) s.forestbatch_path = SelfPath();
  // Options of another engine's group mean nothing here: say so rather than
  // drop them silently.
  const char* own_group = s.engine == Engine::kSlurm      ? kSlurmGroup
                          : s.engine == Engine::kAwsBatch ? kAwsGroup
                                                          : kKubernetesGroup;
  std::vector<std::string> foreign;
  for (const CLI::Option* o : f.app->get_options()) {
    const std::string& g = o->get_group();
    if (o->count() > 0 && g != own_group && (g == kSlurmGroup || g == kAwsGroup || g == kKubernetesGroup)) {
      foreign.push_back(fmt::format("{} is an option of {}; it means nothing to {}", o->get_name(), g,
                                    EngineName(s.engine)));
    }
  }
  if (!f.cpus.empty()) {
    s.cpu = f.cpus;
    s.aws_vcpus = f.cpus;
    double cpus = 0;
    try {
      size_t used = 0;
      cpus = std::stod(f.cpus, &used);
      if (used != f.cpus.size() || !(cpus > 0)) cpus = 0;
    } catch (...) {
      cpus = 0;
    }
    if (cpus <= 0) {
      foreign.push_back(fmt::format("--cpus '{}': want a positive number", EscapeForMessage(f.cpus)));
    } else if (s.engine == Engine::kSlurm && cpus != std::floor(cpus)) {
      foreign.push_back("--cpus must be a whole number for Slurm");
    } else {
      s.cpus_per_task = static_cast<int64_t>(std::ceil(cpus));
      // The task's CPUs become the worker's threads unless it was told: an AWS
      // Batch container's vCPUs are CPU shares, not a limit the worker could see.
      bool has_threads = false;
      for (const auto& a : s.worker_args)
        has_threads = has_threads || a == "--threads" || a.rfind("--threads=", 0) == 0;
      if (!has_threads && !s.worker_args.empty()) {
        s.worker_args.push_back("--threads");
        s.worker_args.push_back(std::to_string(s.cpus_per_task));
      }
    }
  }
  if (!f.memory.empty()) {
    s.memory = f.memory;
    s.k8s_memory = f.memory;
    s.aws_memory = f.memory;
  }
  if (!foreign.empty()) {
    // With the spec's own problems, all in one list.
    return ReportError(ValidateSubmitSpec(s, std::move(foreign)));
  }
  if (Status sc = ApplySchedule(s, f.schedule, f.lease); !sc.ok()) return ReportError(sc);

  auto out = Submit(s, f.state_dir, f.dry_run, estimate);
  if (!out.ok())
    return ReportError(
        std::move(out).take_status().Prefix(fmt::format("submit to {}", EngineName(s.engine))));
  if (f.dry_run) {
    std::cout << out->artifact;
    return kExitOk;
  }
  const SubmitRecord& r = out->record;
  if (f.json) {
    std::cout << RecordToJson(r).dump(2) << "\n";
  } else {
    std::cout << fmt::format("submitted '{}' to {}: job {} ({} tasks)\n", r.name, EngineName(r.engine),
                             r.job_id, r.workers);
    std::cerr << fmt::format("follow it with: forestbatch submit --status {}{}\n", r.name,
                             f.state_dir == ".forestbatch" ? "" : " --state " + f.state_dir);
  }
  return kExitOk;
}

}  // namespace

CommandSpec SubmitCommand() {
  return {
      "submit", "submit an array job of workers to Slurm, AWS Batch or Kubernetes", [](CLI::App* sub) {
        auto f = std::make_shared<SubmitFlags>();
        f->app = sub;
        sub->footer(
            "Everything after `--` is passed to each `forestbatch worker` task, e.g.\n"
            "  forestbatch submit --engine slurm --workers 4 -- --model m.joblib --input in --output out\n"
            "Each task finds its index from the engine's variables (AWS_BATCH_JOB_ARRAY_INDEX,\n"
            "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID). See docs/scale-out.md.");
        sub->add_option("--engine", f->engine, "slurm, aws-batch or kubernetes");
        sub->add_option("--workers", f->spec.workers, "array size: number of worker tasks")
            ->check(CLI::PositiveNumber);
        sub->add_option("--name", f->spec.name, "job name (default forestbatch-YYYYMMDD-HHMMSS)");
        sub->add_option("--state", f->state_dir, "where submit records are kept")->capture_default_str();
        sub->add_option("--schedule", f->schedule,
                        "static (each task a fixed slice) or dynamic (tasks claim files; a lost task's "
                        "files are finished by the others): passed to every worker")
            ->check(CLI::IsMember({"static", "dynamic"}));
        sub->add_option(
               "--lease", f->lease,
               "dynamic: seconds before a silent task's file is taken over (default: the worker's, 60)")
            ->check(CLI::Range(1.0, 86400.0));
        sub->add_flag("--dry-run", f->dry_run, "print the script, request or manifest; submit nothing");
        sub->add_flag("--json", f->json, "print the submit record (or --status) as JSON");
        sub->add_flag(
            "--estimate", f->estimate,
            "time one sample input here and print the job's projected duration and cost (with --dry-run "
            "and no --engine: only that; when submitting: kept in the submit record, shown by status and "
            "serve)");
        AddPriceFlag(sub, &f->price_text);
        // One value per occurrence, so a following `--` still starts the worker options.
        sub->add_option("--env", f->env, "NAME=VALUE for every task (repeatable)")
            ->expected(1)
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        sub->add_option(
            "--cpus", f->cpus,
            "CPUs per task (Slurm --cpus-per-task, AWS Batch VCPU, Kubernetes cpu; default 2); also the "
            "worker's --threads unless given after --");
        sub->add_option(
            "--memory", f->memory,
            "memory per task (Slurm --mem such as 7G; AWS Batch MEMORY; Kubernetes such as 7Gi, the "
            "default)");
        sub->add_option("--status", f->status_name, "show the engine's state of the submitted job NAME");
        auto* slurm = kSlurmGroup;
        sub->add_option("--max-parallel", f->spec.max_parallel,
                        "run at most this many tasks at once (%max; 0: no limit)")
            ->group(slurm);
        sub->add_option("--partition", f->spec.partition, "Slurm partition")->group(slurm);
        sub->add_option("--time", f->spec.time_limit, "Slurm time limit per task, e.g. 01:00:00")
            ->group(slurm);
        sub->add_option("--log-dir", f->spec.log_dir,
                        "folder of the %x_%A_%a.log files (default STATE/slurm-logs)")
            ->group(slurm);
        sub->add_option("--sbatch-arg", f->spec.sbatch_args, "extra #SBATCH option, verbatim (repeatable)")
            ->expected(1)
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
            ->group(slurm);
        sub->add_option("--forestbatch", f->spec.forestbatch_path,
                        "forestbatch binary the tasks run (default: this one)")
            ->group(slurm);
        auto* aws = kAwsGroup;
        sub->add_option("--job-queue", f->spec.job_queue, "AWS Batch job queue")->group(aws);
        sub->add_option("--job-definition", f->spec.job_definition,
                        "AWS Batch job definition (name[:revision] or ARN)")
            ->group(aws);
        sub->add_option("--attempts", f->spec.attempts,
                        "attempts per task, 1..10 (Spot reclaims are retried)")
            ->capture_default_str()
            ->group(aws);
        sub->add_option("--timeout", f->spec.timeout_seconds, "seconds per attempt (at least 60; 0 = none)")
            ->group(aws);
        auto* k8s = kKubernetesGroup;
        sub->add_option("--image", f->spec.image, "container image whose entrypoint is forestbatch worker")
            ->group(k8s);
        sub->add_option("--namespace", f->spec.k8s_namespace, "Kubernetes namespace")->group(k8s);
        sub->add_option("--parallelism", f->spec.parallelism, "pods at once (default --workers)")->group(k8s);
        sub->add_option("--backoff-limit-per-index", f->spec.backoff_limit_per_index, "retries per index")
            ->capture_default_str()
            ->group(k8s);
        sub->add_option("--grace-period", f->spec.grace_period_seconds, "seconds from SIGTERM to SIGKILL")
            ->capture_default_str()
            ->group(k8s);
        sub->add_option("--service-account", f->spec.service_account,
                        "service account (e.g. one with S3 access)")
            ->group(k8s);
        sub->add_option("worker_options", f->spec.worker_args,
                        "options for each forestbatch worker (after --)");
        return std::function<int()>([f] { return Run(*f); });
      }};
}

}  // namespace fb::cli
