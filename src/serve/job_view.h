// JobView: one job as the dashboard shows it, read from the job database in
// one go: its record, counts, tasks (with their CPU time), files, cost, and
// the progress figures (rate, ETA) computed from the file records' times.
//
// Thread safety: values; LoadJobView uses the JobDb it is given (one per
// thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runner/cost.h"
#include "runner/job_db.h"
#include "runner/job_estimate.h"
#include "runner/job_report.h"

namespace fb::serve {

struct TaskView {
  TaskRecord record;
  double cpu_seconds = 0;
};

struct JobView {
  JobRecord job;
  // The job's state as it really is (runner/local_job.h EffectiveJobState):
  // kDead when the record says running but its supervisor is gone.
  JobState state = JobState::kRunning;
  FileCounts counts;
  std::vector<TaskView> tasks;
  std::vector<FileRecord> files;  // sorted by relative path
  JobCost cost;
  // From the spec: what the job reads, writes and predicts with (secrets hidden).
  std::string model, input, output, exec;
  int workers = 0;
  double started_unix = 0;  // the job record's creation
  JobTimes times;           // every run's wall time (runner/job_report.h)
  double elapsed_seconds = 0;
  double files_per_second = 0;  // recent completion rate
  std::optional<double> eta_seconds;
  bool live = false;  // running or cancelling with a live supervisor: worth watching
  // The projection kept with the job (run --estimate) against what it took so
  // far; nullopt when it has none (kNoEstimate says why).
  std::optional<EstimateComparison> estimate;
  int64_t finished() const { return counts.done + counts.skipped + counts.failed; }
};

// Reads everything about `id` from the job database of `state_dir` (whose
// leases tell a live job from a dead one); NotFound when there is no such
// job. `now_unix` is the current time (seconds since 1970).
Result<JobView> LoadJobView(JobDb& db, const std::string& state_dir, const std::string& id,
                            std::optional<double> price, double now_unix);

// The progress figures as JSON (for /api and server-sent events).
std::string ProgressJson(const JobView& v);

// "2026-11-28T20:15:03Z" -> seconds since 1970; 0 when not of that form.
inline double ParseUtc(const std::string& iso) { return ParseUtcSeconds(iso); }

// Seconds since 1970, now.
double UnixNow();

// Is this a job id the dashboard accepts in a URL: 1..200 of [A-Za-z0-9_.-],
// not only dots.
bool IsJobId(const std::string& id);

}  // namespace fb::serve
