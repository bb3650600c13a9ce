// JobDb: job records in SQLite (STATE/jobs.db): jobs, tasks, task attempts
// and per-file status, rows, errors and durations.
//
// Several processes (the supervisor of `run` and its workers) open the same
// database at once: WAL journal, a busy timeout, and one short transaction
// per update, so a SIGKILL at any moment leaves a consistent database.
//
// Thread safety: one JobDb per thread (SQLite connection).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runner/states.h"

struct sqlite3;

namespace fb {

struct JobRecord {
  std::string id, name;
  JobState state = JobState::kRunning;
  std::string created_at, updated_at, spec_json, host;
  int64_t supervisor_pid = 0;
  int exit_code = -1;  // -1 while running
  int64_t files_total = 0;
  double seconds = 0;
};

struct TaskRecord {
  int64_t index = 0;
  TaskState state = TaskState::kPending;
  int attempts = 0;
  int64_t pid = 0;
  int exit_code = -1;
  int signal = 0;
  int64_t files = 0;
  std::string started_at, finished_at, log;
};

struct FileRecord {
  std::string relative;
  FileState state = FileState::kPending;
  std::string error, output, sha256;
  int64_t task = 0;
  int attempts = 0;
  uint64_t rows = 0;
  double seconds = 0;
  double updated_unix = 0;  // when its last event was recorded (seconds since 1970; 0: never)
};

// One start of a task's worker process, and the CPU time it used (user and
// system time from wait4(), its own and its waited-for children's).
struct AttemptRecord {
  int64_t index = 0;
  int attempt = 0;
  int64_t pid = 0;
  int exit_code = -1;
  int signal = 0;
  std::string started_at, finished_at;
  double user_seconds = 0, sys_seconds = 0;
};

// One `run` or `resume` of a job: its supervisor's life. A job's time is the
// sum of its runs'; a run with no end (finished_unix 0) is running, or its
// supervisor died.
struct RunRecord {
  int64_t run = 0;  // 1, 2, ... in order
  double started_unix = 0, finished_unix = 0;
  double seconds = 0;                   // wall time, once finished
  JobState state = JobState::kRunning;  // then succeeded, failed, interrupted, cancelled; dead
  int64_t done = 0;                     // files made by this run
  int64_t failed = 0;                   // files failed in this run
  uint64_t rows = 0;                    // rows of the files it made
};

struct FileCounts {
  int64_t pending = 0, running = 0, done = 0, skipped = 0, failed = 0;
  uint64_t rows = 0;  // rows of files done in this job (not skipped)
};

class JobDb {
 public:
  // Opens (creating) STATE/jobs.db, creating the folder.
  static Result<std::unique_ptr<JobDb>> Open(const std::string& state_dir);
  // Opens an existing STATE/jobs.db for reading only (a dashboard): no
  // schema or journal changes, so it never competes with a job for a write
  // lock. NotFound when there is no database. Writes through it fail.
  static Result<std::unique_ptr<JobDb>> OpenReadOnly(const std::string& state_dir);
  ~JobDb();

  Status CreateJob(const JobRecord& job);
  Status UpdateJob(const std::string& id, JobState state, int exit_code, double seconds);
  Status SetSupervisor(const std::string& id, int64_t pid, const std::string& host);
  Status SetFilesTotal(const std::string& id, int64_t n);
  Result<std::optional<JobRecord>> GetJob(const std::string& id);
  Result<std::vector<JobRecord>> ListJobs();

  Status UpsertTask(const std::string& job, const TaskRecord& t);
  Result<std::vector<TaskRecord>> Tasks(const std::string& job);
  Status AddAttempt(const std::string& job, int64_t index, int attempt, int64_t pid, int exit_code,
                    int signal, const std::string& started_at, const std::string& finished_at);
  // The CPU time of an attempt's process, once the supervisor reaped it.
  Status SetAttemptUsage(const std::string& job, int64_t index, int attempt, double user_seconds,
                         double sys_seconds);
  Result<std::vector<AttemptRecord>> Attempts(const std::string& job);
  // User + system seconds of every recorded attempt of the job (its vCPU-seconds).
  Result<double> CpuSeconds(const std::string& job);

  // Registers files as pending unless already recorded.
  Status AddPendingFiles(const std::string& job, const std::vector<std::string>& relatives,
                         const std::vector<int64_t>& tasks);
  Status RecordFile(const std::string& job, const FileRecord& f);
  Result<std::vector<FileRecord>> Files(const std::string& job);
  Result<FileCounts> Counts(const std::string& job);
  // Marks files left "running" by dead workers as pending again.
  Status ResetRunning(const std::string& job);
  // When any of the job's files last changed (seconds since 1970; 0: never).
  Result<double> LastFileUpdateUnix(const std::string& job);

  // A new run of the job (its number), started now.
  Result<int64_t> StartRun(const std::string& job, double started_unix);
  Status FinishRun(const std::string& job, const RunRecord& run);
  // Runs left unfinished (their supervisor died) end "dead" at
  // `last_activity_unix` (no earlier than their start).
  Status CloseUnfinishedRuns(const std::string& job, double last_activity_unix);
  // The job's runs in order; none for jobs recorded before runs were.
  Result<std::vector<RunRecord>> Runs(const std::string& job);

  // The projection made before the job ran (runner/job_estimate.h), as JSON
  // (EstimateRecord::ToJson); nullopt when none was made.
  Status SetEstimate(const std::string& job, const std::string& estimate_json);
  Result<std::optional<std::string>> EstimateJson(const std::string& job);

 private:
  explicit JobDb(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  // Columns added after the first release: databases made by older versions
  // gain them when opened.
  Status Migrate();
  // Whether a table exists: a read-only connection to a database made by an
  // older version has no newer tables (and adds none).
  Result<bool> HasTable(const char* name);
  sqlite3* db_;
};

}  // namespace fb
