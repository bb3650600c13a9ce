// JobReport: what `status`, `jobs`, the end-of-run summary and the dashboard
// say about a job, computed here so that each says the same and every figure
// is tested without the binary (cli/ only prints these).
//
// Times: a job's wall time is the sum of its runs (`run`, then each
// `resume`): finished runs by their record, the running one until now, and
// one whose supervisor died until the last thing it recorded. Rates count
// the files made in the period they are a rate of, never the whole input
// list.
//
// Thread safety: pure functions, and functions that read the JobDb they are
// given (one per thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runner/job_db.h"
#include "runner/job_estimate.h"

namespace fb {

struct JobTimes {
  double seconds = 0;                // the whole job: every run
  double this_run_seconds = 0;       // the latest run
  double before_seconds = 0;         // the runs before it
  int runs = 0;                      // 0: recorded before runs were (one run, as far as is known)
  bool until_last_activity = false;  // a dead job: counted to its last recorded activity
};

// `state` is the effective one (EffectiveJobState); `last_activity_unix` the
// latest time anything of the job was recorded (files, the lease's heartbeat).
JobTimes JobTimesOf(const JobRecord& job, const std::vector<RunRecord>& runs, JobState state,
                    double last_activity_unix, double now_unix);

// Reads the job's runs and last activity and computes its times.
Result<JobTimes> LoadJobTimes(JobDb& db, const JobRecord& job, const std::string& state_dir, JobState state,
                              double now_unix);

// "2026-11-28T20:15:03Z" -> seconds since 1970; 0 when not of that form.
double ParseUtcSeconds(const std::string& iso);

// "1m 3.2s".
std::string FormatDuration(double seconds);

// The estimate kept with a local job and what the job took so far; nullopt
// when the job has none (kNoEstimate says why).
Result<std::optional<EstimateComparison>> LoadEstimateComparison(JobDb& db, const JobRecord& job,
                                                                 const JobTimes& times, bool finished,
                                                                 std::optional<double> price,
                                                                 double now_unix);

// What the job does, from its recorded spec, secrets hidden: model, input,
// output (each "" when absent), and its options in one line.
struct JobSpecSummary {
  std::string model, input, output, exec, options;
};
JobSpecSummary SummarizeSpec(const std::string& spec_json);

// `forestbatch status JOB`: the job, what it reads and writes, its options,
// times, estimate, files, cost, tasks and failures.
Result<std::string> JobStatusText(JobDb& db, const std::string& job, const std::string& state_dir,
                                  std::optional<double> price, double now_unix);

// `forestbatch jobs`, as a table and as JSON ({"jobs": [...]}, docs/run.md).
Result<std::string> JobListText(JobDb& db, const std::string& state_dir, double now_unix);
Result<std::string> JobListJson(JobDb& db, const std::string& state_dir, double now_unix);

// The figures of `run`'s progress line: rows per second and files per minute
// of this run (not counting what earlier runs did), and an ETA that counts
// down while a file is in flight instead of growing.
struct ProgressSample {
  FileCounts now, before;      // counts now, and when this run started
  int64_t total = 0;           // files in the job
  double elapsed = 0;          // seconds since this run started
  double last_completion = 0;  // elapsed when the latest file of this run finished (0: none yet)
};
struct ProgressFigures {
  int64_t finished = 0;  // done + skipped + failed (the whole job)
  double rows_per_second = 0;
  double files_per_minute = 0;
  std::optional<double> eta_seconds;
};
ProgressFigures ComputeProgress(const ProgressSample& s);

}  // namespace fb
