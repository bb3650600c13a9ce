// The states of a job (and of each run of it), of a task, of a file and of
// a claim on a file, as enums. Each state's name is its one spelling: what the job database stores,
// `status` and `jobs` print, the JSON status and the dashboard's API send,
// the claim files hold, and what databases and claims written by earlier
// versions hold. StateName prints a
// state; ParseState reads one and knows no other spelling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "common/exit_codes.h"
#include "common/status.h"

namespace fb {

// A job's state in its record; a run's state (RunRecord) is one of the same.
// A run ends as its job does; kCancelling is only ever a job's (`cancel`
// asked its supervisor to stop); kDead is a run whose supervisor died, and
// what EffectiveJobState (runner/local_job.h) makes of a job left running
// with no live supervisor.
enum class JobState : uint8_t { kRunning, kCancelling, kSucceeded, kFailed, kInterrupted, kCancelled, kDead };

// A task's state: one worker process of the job, restarted while it may be.
enum class TaskState : uint8_t { kPending, kRunning, kRestarting, kSucceeded, kFailed, kInterrupted };

// A file's state: in the events a worker reports for it (runner/worker.h),
// and in the job's files table, which also has kPending (not started, or
// left by a worker that stopped: a kAbandoned event is recorded as pending).
// kAbandoned stands in databases written by older versions.
enum class FileState : uint8_t { kRunning, kDone, kSkipped, kFailed, kAbandoned, kRetrying, kPending };

// A claim's state: dynamic scheduling's claim on a file, in its JSON claim
// file (runner/claims.h): taken, then done or failed.
enum class ClaimState : uint8_t { kClaimed, kDone, kFailed };

// Each kind's names, in enum order, and what the kind is called in errors.
template <class E>
struct StateNames;
template <>
struct StateNames<JobState> {
  static constexpr const char* kKind = "job state";
  static constexpr const char* kNames[] = {"running",     "cancelling", "succeeded", "failed",
                                           "interrupted", "cancelled",  "dead"};
  static constexpr JobState kLast = JobState::kDead;
};
template <>
struct StateNames<TaskState> {
  static constexpr const char* kKind = "task state";
  static constexpr const char* kNames[] = {"pending",   "running", "restarting",
                                           "succeeded", "failed",  "interrupted"};
  static constexpr TaskState kLast = TaskState::kInterrupted;
};
template <>
struct StateNames<FileState> {
  static constexpr const char* kKind = "file state";
  static constexpr const char* kNames[] = {"running",   "done",     "skipped", "failed",
                                           "abandoned", "retrying", "pending"};
  static constexpr FileState kLast = FileState::kPending;
};
template <>
struct StateNames<ClaimState> {
  static constexpr const char* kKind = "claim state";
  static constexpr const char* kNames[] = {"claimed", "done", "failed"};
  static constexpr ClaimState kLast = ClaimState::kFailed;
};

// The state's name ("running", "done", ...).
template <class E>
const char* StateName(E state) {
  static_assert(std::size(StateNames<E>::kNames) == static_cast<size_t>(StateNames<E>::kLast) + 1,
                "one name per state");
  return StateNames<E>::kNames[static_cast<size_t>(state)];
}

// The state of kind E named `name` (exactly: no other case or spacing);
// nullopt when none is.
template <class E>
std::optional<E> ParseState(std::string_view name) {
  for (size_t i = 0; i < std::size(StateNames<E>::kNames); ++i)
    if (name == StateNames<E>::kNames[i]) return static_cast<E>(i);
  return std::nullopt;
}

// ParseState, or InvalidData "unknown job state 'x' (known: running, ...)".
template <class E>
Result<E> ReadState(std::string_view name) {
  if (std::optional<E> state = ParseState<E>(name)) return *state;
  std::string known;
  for (const char* n : StateNames<E>::kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidData(std::string("unknown ") + StateNames<E>::kKind + " '" + std::string(name) +
                     "' (known: " + known + ")");
}

// Whether a job in this state has (or should have) a supervisor running it:
// running, or cancelling.
constexpr bool IsLive(JobState s) { return s == JobState::kRunning || s == JobState::kCancelling; }
// Whether the job ran to its end, every file tried: succeeded, or failed.
constexpr bool IsFinished(JobState s) { return s == JobState::kSucceeded || s == JobState::kFailed; }

// The exit code of `run`, `resume` and `tune --workers` for a job that ended
// in this state (common/exit_codes.h): succeeded 0, failed kExitSomeFailed,
// anything else kExitInterrupted.
constexpr int JobExitCode(JobState s) {
  return s == JobState::kSucceeded ? kExitOk : s == JobState::kFailed ? kExitSomeFailed : kExitInterrupted;
}

}  // namespace fb
