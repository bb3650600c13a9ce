#include "runner/array_task.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace fb {
namespace {

GetEnv Env(std::map<std::string, std::string> m) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(m));
  return [shared](const char* n) -> const char* {
    auto it = shared->find(n);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(ArrayTaskTest, FlagsWin) {
  auto t = ResolveArrayTask(3, 4, Env({{"AWS_BATCH_JOB_ARRAY_INDEX", "1"}}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->index, 3);
  EXPECT_EQ(t->count, 4);
  EXPECT_FALSE(ResolveArrayTask(4, 4, Env({})).ok());
  EXPECT_FALSE(ResolveArrayTask(1, std::nullopt, Env({})).ok());
}

TEST(ArrayTaskTest, AwsBatchSeedVariables) {
  auto t = ResolveArrayTask(std::nullopt, std::nullopt,
                            Env({{"AWS_BATCH_JOB_ARRAY_INDEX", "9"}, {"NUMBER_OF_WORKERS", "10"}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->index, 9);
  EXPECT_EQ(t->count, 10);
  EXPECT_NE(t->source.find("NUMBER_OF_WORKERS"), std::string::npos);
  t = ResolveArrayTask(std::nullopt, std::nullopt,
                       Env({{"AWS_BATCH_JOB_ARRAY_INDEX", "0"},
                            {"AWS_BATCH_JOB_ARRAY_SIZE", "2"},
                            {"NUMBER_OF_WORKERS", "10"}}));
  EXPECT_EQ(t->count, 2);
  EXPECT_FALSE(ResolveArrayTask(std::nullopt, std::nullopt, Env({{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}})).ok());
  EXPECT_FALSE(ResolveArrayTask(std::nullopt, std::nullopt,
                                Env({{"AWS_BATCH_JOB_ARRAY_INDEX", "x"}, {"NUMBER_OF_WORKERS", "2"}}))
                   .ok());
}

TEST(ArrayTaskTest, KubernetesNeedsCount) {
  EXPECT_FALSE(ResolveArrayTask(std::nullopt, std::nullopt, Env({{"JOB_COMPLETION_INDEX", "2"}})).ok());
  auto t = ResolveArrayTask(std::nullopt, 5, Env({{"JOB_COMPLETION_INDEX", "2"}}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->index, 2);
  EXPECT_EQ(t->count, 5);
}

TEST(ArrayTaskTest, SlurmRankAndSparseArrays) {
  auto t = ResolveArrayTask(std::nullopt, std::nullopt,
                            Env({{"SLURM_ARRAY_TASK_ID", "14"},
                                 {"SLURM_ARRAY_TASK_MIN", "10"},
                                 {"SLURM_ARRAY_TASK_MAX", "16"},
                                 {"SLURM_ARRAY_TASK_STEP", "2"},
                                 {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->index, 2);
  EXPECT_EQ(t->count, 4);
  auto sparse = ResolveArrayTask(std::nullopt, std::nullopt,
                                 Env({{"SLURM_ARRAY_TASK_ID", "3"},
                                      {"SLURM_ARRAY_TASK_MIN", "1"},
                                      {"SLURM_ARRAY_TASK_MAX", "7"},
                                      {"SLURM_ARRAY_TASK_STEP", "1"},
                                      {"SLURM_ARRAY_TASK_COUNT", "3"}}));
  ASSERT_FALSE(sparse.ok());
  EXPECT_NE(sparse.status().message().find("sparse"), std::string::npos);
}

TEST(ArrayTaskTest, DefaultIsTaskZeroOfOne) {
  auto t = ResolveArrayTask(std::nullopt, std::nullopt, Env({}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->index, 0);
  EXPECT_EQ(t->count, 1);
}

}  // namespace
}  // namespace fb
