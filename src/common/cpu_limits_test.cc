#include "common/cpu_limits.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fb {
namespace {

TEST(CpuLimits, CgroupV2Max) {
  EXPECT_EQ(CpusFromCgroupV2Max("max 100000\n"), std::nullopt);
  EXPECT_EQ(CpusFromCgroupV2Max("100000 100000\n"), 1);
  EXPECT_EQ(CpusFromCgroupV2Max("150000 100000"), 2);  // 1.5 CPUs: two threads, each busy part time
  EXPECT_EQ(CpusFromCgroupV2Max("50000 100000"), 1);
  EXPECT_EQ(CpusFromCgroupV2Max("400000 100000"), 4);
  EXPECT_EQ(CpusFromCgroupV2Max(""), std::nullopt);
  EXPECT_EQ(CpusFromCgroupV2Max("garbage"), std::nullopt);
  EXPECT_EQ(CpusFromCgroupV2Max("10x 100000"), std::nullopt);
  EXPECT_EQ(CpusFromCgroupV2Max("100000 0"), std::nullopt);
}

TEST(CpuLimits, CgroupV1) {
  EXPECT_EQ(CpusFromCgroupV1("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(CpusFromCgroupV1("200000\n", "100000\n"), 2);
  EXPECT_EQ(CpusFromCgroupV1("250000", "100000"), 3);
  EXPECT_EQ(CpusFromCgroupV1("x", "100000"), std::nullopt);
}

TEST(CpuLimits, CgroupV2PathFromProcSelf) {
  EXPECT_EQ(CgroupV2Path("0::/user.slice/session-1.scope\n"), "/user.slice/session-1.scope");
  EXPECT_EQ(CgroupV2Path("12:cpu,cpuacct:/docker/abc\n0::/\n"), "/");
  EXPECT_EQ(CgroupV2Path("12:cpu,cpuacct:/docker/abc\n"), std::nullopt);
}

// Under an affinity mask of one CPU (what `taskset -c 0` does) only one CPU is
// available, whatever the machine has.
TEST(CpuLimits, FollowsTheAffinityMask) {
  EXPECT_GE(AvailableCpus(), 1);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(2);
    _exit(AvailableCpus() == 1 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace fb
