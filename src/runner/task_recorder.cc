#include "runner/task_recorder.h"

#include <fmt/format.h>

#include "common/text_escape.h"

namespace fb {

void TaskRecorder::OnShard(const std::vector<ObjectInfo>& shard, size_t total_files) {
  if (log_) {
    fmt::print(log_, "task {}: {} of {} input files\n", index_, shard.size(), total_files);
    std::fflush(log_);
  }
  if (db_ == nullptr) return;
  std::vector<std::string> rel;
  std::vector<int64_t> tasks;
  for (const auto& f : shard) {
    rel.push_back(f.relative);
    tasks.push_back(index_);
  }
  Status s = db_->AddPendingFiles(job_, rel, tasks);
  if (!s.ok() && db_status_.ok()) db_status_ = s;
}

void TaskRecorder::OnDynamic(size_t total_files, const std::string& claims_root) {
  if (log_) {
    fmt::print(log_, "task {}: claiming files one at a time from {} input files (claims in {})\n", index_,
               total_files, claims_root);
    std::fflush(log_);
  }
}

void TaskRecorder::OnFile(const FileEvent& e) {
  if (log_) {
    // Names and errors come from files and object keys: escaped, so an ESC or
    // a line break in a name cannot drive the terminal or forge a log line.
    const std::string input = EscapeForMessage(e.input);
    const std::string output = EscapeForMessage(e.output);
    const std::string error = EscapeForMessage(e.error);
    switch (e.state) {
      case FileState::kRunning:
        if (!e.error.empty()) fmt::print(log_, "{}: {}\n", input, error);
        fmt::print(log_, "processing {} (attempt {})\n", input, e.attempt);
        break;
      case FileState::kDone:
        fmt::print(log_, "done {} -> {}: {} rows in {:.3f} s\n", input, output, e.stats.rows, e.seconds);
        break;
      case FileState::kSkipped: fmt::print(log_, "skipping {}: {}\n", input, error); break;
      case FileState::kRetrying:
        fmt::print(log_, "attempt {} failed, will retry {}: {}\n", e.attempt, input, error);
        break;
      case FileState::kFailed: fmt::print(log_, "FAILED {}: {}\n", input, error); break;
      case FileState::kAbandoned: fmt::print(log_, "abandoned {} (stopping): {}\n", input, error); break;
      case FileState::kPending: break;  // a file's state before its first event: never an event itself
    }
    std::fflush(log_);
  }
  if (db_ == nullptr) return;
  FileRecord r;
  r.relative = e.relative;
  r.task = index_;
  // An abandoned file is not done: it goes back to pending for `resume`.
  r.state = e.state == FileState::kAbandoned ? FileState::kPending : e.state;
  r.rows = e.stats.rows;
  r.attempts = e.attempt;
  r.error = e.state == FileState::kSkipped || e.state == FileState::kRunning ? "" : e.error;
  r.seconds = e.seconds;
  r.output = e.output;
  r.sha256 = e.stats.output_sha256;
  Status s = db_->RecordFile(job_, r);
  if (!s.ok() && db_status_.ok()) db_status_ = s;
}

}  // namespace fb
