#include "scaleout/submit_status.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

TEST(SubmitStatusTest, SlurmPhases) {
  EXPECT_EQ(SlurmStatePhase("COMPLETED"), TaskPhase::kSucceeded);
  EXPECT_EQ(SlurmStatePhase("RUNNING"), TaskPhase::kRunning);
  EXPECT_EQ(SlurmStatePhase("PENDING"), TaskPhase::kPending);
  EXPECT_EQ(SlurmStatePhase("REQUEUED"), TaskPhase::kPending);
  EXPECT_EQ(SlurmStatePhase("CANCELLED by 0"), TaskPhase::kFailed);
  EXPECT_EQ(SlurmStatePhase("NODE_FAIL"), TaskPhase::kFailed);
}

// Text as Slurm 22.05 prints it (taken from the test cluster).
TEST(SubmitStatusTest, SlurmSources) {
  std::map<int64_t, std::string> st;
  ParseScontrolLines(
      "JobId=1 ArrayJobId=1 ArrayTaskId=2-3%2 ArrayTaskThrottle=2 JobName=t.sh JobState=PENDING Reason=x\n"
      "JobId=3 ArrayJobId=1 ArrayTaskId=1 JobName=t.sh JobState=COMPLETED Reason=None\n"
      "JobId=2 ArrayJobId=1 ArrayTaskId=0 JobName=t.sh JobState=CANCELLED Reason=None\n",
      st);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[2], "PENDING");
  EXPECT_EQ(st[3], "PENDING");
  ParseSacctLines("7_0|COMPLETED\n7_1|CANCELLED by 0\n7_[2-3]|PENDING\n71_0|FAILED\n", "7", st);
  EXPECT_EQ(st[0], "COMPLETED");
  EXPECT_EQ(st[1], "CANCELLED by 0");
  ParseSqueueLines("0|RUNNING\n3|RUNNING\n", st);
  auto s = SlurmJobState(st, 4);
  EXPECT_EQ(s.running, 2);
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_FALSE(s.finished);
  st = {{0, "COMPLETED"}, {1, "COMPLETED"}};
  s = SlurmJobState(st, 2);
  EXPECT_TRUE(s.finished);
  EXPECT_EQ(s.engine_state, "COMPLETED");
  s = SlurmJobState({{0, "COMPLETED"}}, 2);  // a task the engine forgot is not "done"
  EXPECT_FALSE(s.finished);
}

TEST(SubmitStatusTest, AwsDescribeJobs) {
  auto s = ParseAwsDescribeJobs(R"({"jobs": [{"jobName": "j", "jobId": "id", "status": "RUNNING",
      "arrayProperties": {"size": 10, "statusSummary": {"STARTING": 1, "FAILED": 1, "RUNNING": 3,
      "SUCCEEDED": 2, "RUNNABLE": 3, "SUBMITTED": 0, "PENDING": 0}}}]})",
                                10);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->running, 4);
  EXPECT_EQ(s->pending, 3);
  EXPECT_EQ(s->succeeded, 2);
  EXPECT_EQ(s->failed, 1);
  EXPECT_FALSE(s->finished);
  s = ParseAwsDescribeJobs(R"({"jobs": [{"status": "SUCCEEDED"}]})", 1);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->finished);
  EXPECT_EQ(s->succeeded, 1);
  EXPECT_EQ(ParseAwsDescribeJobs(R"({"jobs": []})", 1).status().code(), StatusCode::kNotFound);
}

TEST(SubmitStatusTest, KubectlJob) {
  auto s = ParseKubectlJob(R"({"kind": "Job", "spec": {"completions": 8},
      "status": {"active": 2, "succeeded": 4, "failed": 3, "failedIndexes": "1,6",
                 "completedIndexes": "0,2-4"}})",
                           8);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->running, 2);
  EXPECT_EQ(s->succeeded, 4);
  EXPECT_EQ(s->failed, 2);
  EXPECT_EQ(s->pending, 0);
  s = ParseKubectlJob(R"({"kind": "Job", "spec": {"completions": 2},
      "status": {"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]}})",
                      2);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->finished);
  EXPECT_EQ(s->engine_state, "Complete");
  EXPECT_FALSE(ParseKubectlJob("[]", 1).ok());
}

}  // namespace
}  // namespace fb
