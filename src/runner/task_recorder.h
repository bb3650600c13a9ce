// TaskRecorder: the WorkerListener of the `worker` command. Writes one log
// line per file event (the task's log) and, when a job database is given,
// the file's record (state, rows, attempts, error, duration).
//
// Thread safety: called from the worker thread only.
#pragma once

#include <cstdio>
#include <string>

#include "runner/job_db.h"
#include "runner/worker.h"

namespace fb {

class TaskRecorder final : public WorkerListener {
 public:
  // `db` may be null (a worker run alone, e.g. on AWS Batch without shared state).
  TaskRecorder(JobDb* db, std::string job, int64_t index, std::FILE* log)
      : db_(db), job_(std::move(job)), index_(index), log_(log) {}
  void OnShard(const std::vector<ObjectInfo>& shard, size_t total_files) override;
  void OnDynamic(size_t total_files, const std::string& claims_root) override;
  void OnFile(const FileEvent& e) override;
  // The first database error, if any (recording is best effort: a worker
  // never fails a file because the bookkeeping failed).
  const Status& db_status() const { return db_status_; }

 private:
  JobDb* db_;
  std::string job_;
  int64_t index_;
  std::FILE* log_;
  Status db_status_;
};

}  // namespace fb
