// LocalJob: the seed's whole array job on one machine. Starts N `worker`
// processes of this same binary (one per task), supervises them (a task that
// dies is restarted; its worker resumes from the manifests), shows progress,
// and at the end writes the results catalogue and the job's final record.
//
// The job's spec is stored in the job database so `resume JOB` can run it
// again; each task's stdout/stderr go to STATE/logs/<job>/task-<i>.log.
//
// Thread safety: RunLocalJob owns the calling thread; `stop` may be set from
// a signal handler.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/exit_codes.h"
#include "common/process.h"
#include "common/status.h"
#include "runner/claims.h"
#include "runner/cost.h"
#include "runner/job_db.h"
#include "runner/job_estimate.h"
#include "runner/shard_plan.h"

namespace fb {

struct JobSpec {
  std::string name;
  std::string model;  // may be empty with exec
  std::string input, output;
  int workers = 0;  // 0: one per core
  int threads = 0;  // per worker; 0: cores / workers
  ShardBy shard_by = ShardBy::kCount;
  Schedule schedule = Schedule::kStatic;
  double lease_seconds = 60;  // dynamic: claims not renewed for this long are taken over
  int retries = 3;
  double backoff_seconds = 1.0;
  double grace_seconds = 20.0;
  bool overwrite = false, verify = false;
  std::string exec;
  bool shell = false;
  int task_retries = 2;                       // restarts of a task whose worker died
  std::vector<std::string> worker_args;       // extra options passed to every worker (predict options)
  std::vector<std::string> include, exclude;  // input selection (runner/shard_plan.h InputFilter)
  // The folder `run` was started in: workers start there (an --exec command
  // may name files relative to it), so `resume` works from any folder.
  std::string workdir;

  std::string ToJson() const;
  static Result<JobSpec> FromJson(const std::string& json);
  // The spec with local model, input and output paths made absolute (S3 URIs
  // as they are) and `workdir` set to the current folder, as `run` records
  // it, so that the job means the same from anywhere.
  JobSpec Anchored() const;
  // The resolved number of workers and threads.
  int ResolvedWorkers() const;
  int ResolvedThreads() const;
};

struct RunOptions {
  std::string state_dir = ".forestbatch";
  std::string self_exe = "/proc/self/exe";
  std::FILE* progress = stderr;               // progress bar or lines; null: none
  bool progress_bar = false;                  // a bar redrawn in place (a terminal) vs periodic lines
  double progress_interval = 5.0;             // seconds between plain lines
  std::optional<double> price_per_vcpu_hour;  // for the catalogue's cost per file (runner/cost.h)
  std::optional<EstimateRecord> estimate;     // a new job's projection (run --estimate), kept with it
  // "NAME=VALUE" set in the workers' environment (so in their --exec
  // commands' too) for this run only: not part of the job's record or of
  // its outputs' fingerprint (tune's thread count per task).
  std::vector<std::string> worker_env;
  // Starts, watches and signals the workers; null: real processes
  // (common/process.h). Tests pass a fake to check the policy below.
  ProcessRunner* processes = nullptr;
  // The supervisor's policy: a worker that died (not of a permanent exit
  // code, common/exit_codes.h) is restarted after `restart_delay_seconds`,
  // at most JobSpec::task_retries times; on a stop (signal, cancel, a lost
  // lease) every worker's group gets SIGTERM, and those still running
  // `grace_seconds + kill_margin_seconds` later get SIGKILL.
  double restart_delay_seconds = 1.0;
  double kill_margin_seconds = 10.0;
  double poll_seconds = 0.1;  // how often it looks at workers, the job record and progress
};

struct JobOutcome {
  std::string job;
  JobState state = JobState::kSucceeded;  // succeeded, failed, interrupted, cancelled
  int workers = 0;
  int64_t input_files = 0;
  int64_t files_per_worker = 0;
  double seconds = 0;
  FileCounts counts;  // at the end (cumulative over resumes)
  uint64_t rows_this_run = 0;
  int64_t done_this_run = 0;
  int runs = 1;               // this one and every earlier run of the job
  double seconds_before = 0;  // wall time of the earlier runs (`seconds` is this run's)
  double vcpu_seconds_before = 0;
  std::string catalog;      // path of the results catalogue
  double vcpu_seconds = 0;  // CPU time of every worker attempt of the job (cumulative over resumes)
};

// Runs (or, with a non-empty `resume_job`, resumes) a local array job.
// Errors are those that prevent starting it (bad spec, unlistable input,
// unusable state folder).
Result<JobOutcome> RunLocalJob(const JobSpec& spec, const std::string& resume_job, const RunOptions& options,
                               const std::atomic<bool>& stop);

// The seed's Table 1 row plus files made, rows, rows per second, failed files
// and vCPU-seconds; with a price, the cost, per 1,000 files and per million
// rows. Rates count the files and rows made in the period of the row. A
// resumed job has two rows: the whole job (every run) and this run.
std::string SummaryTable(const JobOutcome& o, std::optional<double> price_per_vcpu_hour = std::nullopt);

// Stable JSON status of a job for orchestrators (docs/run.md); with a price,
// its "cost" object has the cost figures too.
Result<std::string> JobStatusJson(JobDb& db, const std::string& job, const std::string& state_dir,
                                  std::optional<double> price_per_vcpu_hour = std::nullopt);

// The job's cost from its records (runner/cost.h).
Result<JobCost> JobCostOf(JobDb& db, const std::string& job, std::optional<double> price_per_vcpu_hour);

// The lease files (runner/lease.h) that make one `run`/`resume` the only
// owner of a job and of an output folder while it runs: a local output
// folder's lease is OUT/.forestbatch.lease (every job writing there sees
// it); an S3 output's is kept under the state folder, so it covers only jobs
// sharing that state folder.
std::string JobLeasePath(const std::string& state_dir, const std::string& job);
std::string OutputLeasePath(const std::string& state_dir, const std::string& output);

// A job record's state as it really is: running or cancelling (IsLive) in the
// record but with no live owner of the job's lease is kDead (killed, or its
// machine rebooted); resume it.
JobState EffectiveJobState(const JobRecord& job, const std::string& state_dir);

// Where things live under the state folder.
std::string JobLogDir(const std::string& state_dir, const std::string& job);
std::string TaskLogPath(const std::string& state_dir, const std::string& job, int64_t index);
std::string CatalogPath(const std::string& state_dir, const std::string& job);
// Dynamic schedule: the claims folder of one run (one `run` or `resume`) of
// a job; restarted workers of that run share it, a resume gets a new one.
std::string ClaimsDirFor(const std::string& state_dir, const std::string& job, const std::string& run);

// A new job id: "<name>-YYYYMMDD-HHMMSS-<4 hex>".
std::string NewJobId(const std::string& name);

}  // namespace fb
