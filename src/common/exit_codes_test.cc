#include "common/exit_codes.h"

#include <gtest/gtest.h>

#include <set>

namespace fb {
namespace {

// Scripts, the supervisor and the engines' retry rules rely on the numbers.
TEST(ExitCodes, NumbersNeverChange) {
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitSomeFailed, 1);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitDataError, 3);
  EXPECT_EQ(kExitUnsupported, 4);
  EXPECT_EQ(kExitNotFound, 5);
  EXPECT_EQ(kExitIoError, 6);
  EXPECT_EQ(kExitAlreadyExists, 7);
  EXPECT_EQ(kExitInternal, 70);
  EXPECT_EQ(kExitInterrupted, 75);
}

TEST(ExitCodes, TheListHasEveryCodeOnceInOrder) {
  std::set<int> seen;
  int last = -1;
  for (const auto& c : kExitCodes) {
    EXPECT_GT(static_cast<int>(c.code), last);
    last = c.code;
    EXPECT_TRUE(seen.insert(c.code).second);
    EXPECT_NE(std::string(c.meaning), "");
  }
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 70, 75}));
}

TEST(ExitCodes, OnlyFailuresThatWouldRepeatArePermanent) {
  for (int c : {2, 3, 4, 5, 7}) EXPECT_TRUE(IsPermanentExit(c)) << c;
  // Success, some failed files (the job record has them), I/O, bugs,
  // interruptions, signals and failed execs may go away: restart.
  for (int c : {0, 1, 6, 70, 75, 127, -1}) EXPECT_FALSE(IsPermanentExit(c)) << c;
}

}  // namespace
}  // namespace fb
