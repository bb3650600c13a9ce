#include "runner/states.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace fb {
namespace {

// Every state's one spelling, as stored, printed and sent: a renamed state
// would no longer read the databases and scripts of earlier versions.
template <class E>
void ExpectSpellings(const std::vector<std::pair<E, std::string>>& spellings) {
  EXPECT_EQ(spellings.size(), std::size(StateNames<E>::kNames));
  for (const auto& [state, name] : spellings) {
    EXPECT_EQ(StateName(state), name);
    EXPECT_EQ(ParseState<E>(name), state) << name;
    Result<E> read = ReadState<E>(name);
    ASSERT_TRUE(read.ok()) << name;
    EXPECT_EQ(*read, state);
  }
}

TEST(States, EverySpellingRoundTrips) {
  ExpectSpellings<JobState>({{JobState::kRunning, "running"},
                             {JobState::kCancelling, "cancelling"},
                             {JobState::kSucceeded, "succeeded"},
                             {JobState::kFailed, "failed"},
                             {JobState::kInterrupted, "interrupted"},
                             {JobState::kCancelled, "cancelled"},
                             {JobState::kDead, "dead"}});
  ExpectSpellings<TaskState>({{TaskState::kPending, "pending"},
                              {TaskState::kRunning, "running"},
                              {TaskState::kRestarting, "restarting"},
                              {TaskState::kSucceeded, "succeeded"},
                              {TaskState::kFailed, "failed"},
                              {TaskState::kInterrupted, "interrupted"}});
  ExpectSpellings<FileState>({{FileState::kRunning, "running"},
                              {FileState::kDone, "done"},
                              {FileState::kSkipped, "skipped"},
                              {FileState::kFailed, "failed"},
                              {FileState::kAbandoned, "abandoned"},
                              {FileState::kRetrying, "retrying"},
                              {FileState::kPending, "pending"}});
  ExpectSpellings<ClaimState>(
      {{ClaimState::kClaimed, "claimed"}, {ClaimState::kDone, "done"}, {ClaimState::kFailed, "failed"}});
}

TEST(States, UnknownSpellingsAreRefusedByName) {
  for (const char* name : {"Running", " running", "running ", "", "done", "levitating"})
    EXPECT_FALSE(ParseState<JobState>(name).has_value()) << name;
  EXPECT_FALSE(ParseState<TaskState>("dead").has_value());  // a job's state, not a task's
  EXPECT_FALSE(ParseState<FileState>("succeeded").has_value());
  Result<FileState> bad = ReadState<FileState>("finished");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(
      bad.status().message(),
      "unknown file state 'finished' (known: running, done, skipped, failed, abandoned, retrying, pending)");
  Result<JobState> empty = ReadState<JobState>("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(
      empty.status().message(),
      "unknown job state '' (known: running, cancelling, succeeded, failed, interrupted, cancelled, dead)");
}

TEST(States, LiveFinishedAndExitCodes) {
  for (JobState s : {JobState::kRunning, JobState::kCancelling, JobState::kSucceeded, JobState::kFailed,
                     JobState::kInterrupted, JobState::kCancelled, JobState::kDead}) {
    EXPECT_EQ(IsLive(s), s == JobState::kRunning || s == JobState::kCancelling) << StateName(s);
    EXPECT_EQ(IsFinished(s), s == JobState::kSucceeded || s == JobState::kFailed) << StateName(s);
    const int code = JobExitCode(s);
    EXPECT_EQ(code, s == JobState::kSucceeded ? 0 : s == JobState::kFailed ? 1 : 75) << StateName(s);
  }
}

}  // namespace
}  // namespace fb
