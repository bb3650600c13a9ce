#include "scaleout/slurm_script.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

SubmitSpec Spec() {
  SubmitSpec s;
  s.engine = Engine::kSlurm;
  s.name = "fb";
  s.workers = 4;
  s.forestbatch_path = "/opt/fb/forestbatch";
  s.workdir = "/data/my job";
  s.log_dir = "/data/logs";
  s.worker_args = {"--model", "m.joblib", "--input", "in dir", "--output", "out"};
  return s;
}

TEST(SlurmScriptTest, ArraySpecAndThrottle) {
  auto s = Spec();
  EXPECT_EQ(SlurmArraySpec(s), "0-3");
  s.max_parallel = 2;
  EXPECT_EQ(SlurmArraySpec(s), "0-3%2");
  s.workers = 1;
  EXPECT_EQ(SlurmArraySpec(s), "0-0%2");
}

TEST(SlurmScriptTest, DynamicScheduleReachesTheWorker) {
  SubmitSpec s;
  s.engine = Engine::kSlurm;
  s.name = "j";
  s.workers = 3;
  s.forestbatch_path = "/opt/fb";
  s.worker_args = {"--model", "m"};
  ASSERT_TRUE(ApplySchedule(s, "dynamic", 0).ok());
  const std::string script = SlurmBatchScript(s);
  EXPECT_NE(script.find("exec /opt/fb worker --model m --schedule dynamic\n"), std::string::npos) << script;
  EXPECT_NE(script.find("SLURM_ARRAY_JOB_ID"), std::string::npos);
}

TEST(SlurmScriptTest, Directives) {
  auto s = Spec();
  s.max_parallel = 3;
  s.cpus_per_task = 4;
  s.memory = "7G";
  s.partition = "cpu";
  s.time_limit = "02:00:00";
  s.sbatch_args = {"--account=proj"};
  s.env = {{"OMP_NUM_THREADS", "4"}};
  std::string sc = SlurmBatchScript(s);
  EXPECT_EQ(sc.rfind("#!/bin/bash\n", 0), 0u);
  for (const char* line :
       {"#SBATCH --job-name=fb\n", "#SBATCH --array=0-3%3\n", "#SBATCH --cpus-per-task=4\n",
        "#SBATCH --output=/data/logs/%x_%A_%a.log\n", "#SBATCH --chdir=\"/data/my job\"\n",
        "#SBATCH --mem=7G\n", "#SBATCH --partition=cpu\n", "#SBATCH --time=02:00:00\n", "#SBATCH --requeue\n",
        "#SBATCH --account=proj\n", "export OMP_NUM_THREADS=4\n",
        "exec /opt/fb/forestbatch worker --model m.joblib --input 'in dir' --output out\n"}) {
    EXPECT_NE(sc.find(line), std::string::npos) << line << "\nin:\n" << sc;
  }
  // Every directive comes before the first command: sbatch stops reading
  // #SBATCH lines at the first non-comment line.
  size_t last_directive = sc.rfind("#SBATCH");
  size_t first_command = sc.find("\nset -eu");
  EXPECT_LT(last_directive, first_command);
  // No --index: the task finds it from SLURM_ARRAY_TASK_ID.
  EXPECT_EQ(sc.find("--index"), std::string::npos);
}

TEST(SlurmScriptTest, ParsesSbatchParsable) {
  EXPECT_EQ(*ParseSbatchOutput("1234\n"), "1234");
  EXPECT_EQ(*ParseSbatchOutput("1234;cluster2\n"), "1234");
  EXPECT_FALSE(ParseSbatchOutput("Submitted batch job 12\n").ok());
  EXPECT_FALSE(ParseSbatchOutput("").ok());
}

}  // namespace
}  // namespace fb
