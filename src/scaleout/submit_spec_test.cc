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

// A line break in a value written into a #SBATCH line would start a
// directive of its own (an injected `#SBATCH --uid=...`); a quote would end
// the value early. Refused for every such value, all listed at once.
TEST(SubmitSpecTest, SlurmDirectiveValuesCannotInjectLines) {
  SubmitSpec s;
  s.engine = Engine::kSlurm;
  s.name = "ok";
  s.forestbatch_path = "/usr/bin/forestbatch";
  EXPECT_TRUE(ValidateSubmitSpec(s).ok());
  s.name = "x\n#SBATCH --uid=0";
  Status st = ValidateSubmitSpec(s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--name 'x\\n#SBATCH --uid=0'"), std::string::npos) << st.message();
  s.name = "a\"b";
  EXPECT_FALSE(ValidateSubmitSpec(s).ok());
  s.name = "fine name with blanks";
  EXPECT_TRUE(ValidateSubmitSpec(s).ok());
  s.partition = "p\r";
  s.time_limit = "1:00\x1b";
  s.sbatch_args = {"--exclusive", "--comment=a\nb"};
  s.log_dir = "logs\n";
  st = ValidateSubmitSpec(s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("4 problems"), std::string::npos) << st.message();
  for (const char* opt : {"--partition", "--time", "--sbatch-arg", "--log-dir"}) {
    EXPECT_NE(st.message().find(opt), std::string::npos) << opt;
  }
}

TEST(SubmitSpecTest, ListsEveryProblemAtOnce) {
  auto s = Aws();
  s.job_queue.clear();
  s.job_definition.clear();
  s.attempts = 0;
  Status st = ValidateSubmitSpec(s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("3 problems"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("--job-queue"), std::string::npos);
  EXPECT_NE(st.message().find("--job-definition"), std::string::npos);
  EXPECT_NE(st.message().find("--attempts"), std::string::npos);
}

TEST(SubmitSpecTest, AwsMemorySizes) {
  EXPECT_EQ(AwsMemoryMiB("7G"), 7168);
  EXPECT_EQ(AwsMemoryMiB("7Gi"), 7168);
  EXPECT_EQ(AwsMemoryMiB("512M"), 512);
  EXPECT_EQ(AwsMemoryMiB("2048"), 2048);
  EXPECT_EQ(AwsMemoryMiB("1T"), 1048576);
  EXPECT_EQ(AwsMemoryMiB("7GB"), std::nullopt);
  EXPECT_EQ(AwsMemoryMiB("lots"), std::nullopt);
  auto s = Aws();
  s.aws_memory = "7 gigs";
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
