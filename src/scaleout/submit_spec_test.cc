#include "scaleout/submit_spec.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

SubmitSpec Aws() {
  SubmitSpec s;
  s.engine = Engine::kAwsBatch;
  s.name = "job-1";
  s.workers = 10;
  s.job_queue = "q";
  s.job_definition = "d";
  return s;
}

TEST(SubmitSpecTest, EngineNamesRoundTrip) {
  for (Engine e : {Engine::kSlurm, Engine::kAwsBatch, Engine::kKubernetes}) {
    auto p = ParseEngine(EngineName(e));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, e);
  }
  EXPECT_FALSE(ParseEngine("lsf").ok());
}

TEST(SubmitSpecTest, AwsLimits) {
  EXPECT_TRUE(ValidateSubmitSpec(Aws()).ok());
  auto s = Aws();
  s.workers = 10001;
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s = Aws();
  s.attempts = 11;
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s = Aws();
  s.timeout_seconds = 59;
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s = Aws();
  s.job_queue.clear();
  EXPECT_NE(ValidateSubmitSpec(s).message().find("--job-queue"), std::string::npos);
  s = Aws();
  s.name = "bad name";
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
}

TEST(SubmitSpecTest, KubernetesNamesAreDnsLabels) {
  SubmitSpec s;
  s.engine = Engine::kKubernetes;
  s.image = "img";
  s.workers = 4;
  s.name = "forestbatch-20260101-000000";
  EXPECT_TRUE(ValidateSubmitSpec(s).ok());
  s.name = "Upper";
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s.name = std::string(64, 'a');
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s.name = "ok";
  s.parallelism = 5;
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s.parallelism = 0;
  s.image.clear();
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
}

TEST(SubmitSpecTest, DefaultNameIsValidEverywhere) {
  SubmitSpec s = Aws();
  s.name = DefaultJobName();
  EXPECT_TRUE(ValidateSubmitSpec(s).ok()) << s.name;
  s.engine = Engine::kKubernetes;
  s.image = "i";
  EXPECT_TRUE(ValidateSubmitSpec(s).ok()) << s.name;
}

TEST(SubmitSpecTest, ScheduleReachesTheWorkersOnce) {
  SubmitSpec s;
  s.worker_args = {"--model", "m"};
  ASSERT_TRUE(ApplySchedule(s, "", 0).ok());
  EXPECT_EQ(s.schedule, Schedule::kStatic);
  EXPECT_EQ(s.worker_args.size(), 2u);
  ASSERT_TRUE(ApplySchedule(s, "dynamic", 0).ok());
  EXPECT_EQ(s.schedule, Schedule::kDynamic);
  EXPECT_EQ(s.worker_args, (std::vector<std::string>{"--model", "m", "--schedule", "dynamic"}));

  SubmitSpec given;
  given.worker_args = {"--schedule=dynamic"};
  ASSERT_TRUE(ApplySchedule(given, "", 0).ok());
  EXPECT_EQ(given.schedule, Schedule::kDynamic);
  ASSERT_TRUE(ApplySchedule(given, "dynamic", 0).ok());
  EXPECT_EQ(given.worker_args.size(), 1u);  // not repeated
  EXPECT_EQ(ApplySchedule(given, "static", 0).code(), StatusCode::kInvalidArgument);
  SubmitSpec lease_only;
  EXPECT_EQ(ApplySchedule(lease_only, "", 30).code(), StatusCode::kInvalidArgument);
}

TEST(SubmitSpecTest, EnvNamesChecked) {
  SubmitSpec s = Aws();
  s.env = {{"GOOD_1", "x"}};
  EXPECT_TRUE(ValidateSubmitSpec(s).ok());
  s.env = {{"1BAD", "x"}};
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
}

}  // namespace
}  // namespace fb
