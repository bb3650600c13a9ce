#include "scaleout/engine_process.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

TEST(EngineProcessTest, FindOnPath) {
  EXPECT_EQ(FindOnPath("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(FindOnPath("sh", "/nonexistent"), "");
  EXPECT_EQ(FindOnPath("/bin/sh", ""), "/bin/sh");
  EXPECT_EQ(FindOnPath("/nonexistent/sh", ""), "");
}

TEST(EngineProcessTest, RunsWithStdinAndCapturesBoth) {
  // More than a pipe buffer each way, to catch a deadlock.
  std::string big(200000, 'x');
  auto r = RunProgram({"sh", "-c", "cat; echo err >&2; exit 3"}, big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, big);
  EXPECT_EQ(r->err, "err\n");
}

TEST(EngineProcessTest, MissingProgramIsNotFound) {
  auto r = RunProgram({"forestbatch-no-such-tool"}, "", "install it");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("forestbatch-no-such-tool"), std::string::npos);
  EXPECT_NE(r.status().message().find("install it"), std::string::npos);
}

TEST(EngineProcessTest, EngineToolQuotesStderr) {
  auto r = RunEngineTool({"sh", "-c", "echo 'sbatch: error: invalid partition' >&2; exit 1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("exit 1"), std::string::npos);
  EXPECT_NE(r.status().message().find("invalid partition"), std::string::npos);
  EXPECT_TRUE(RunEngineTool({"sh", "-c", "exit 0"}).ok());
}

TEST(EngineProcessTest, AToolKilledByASignalIs128PlusTheSignal) {
  auto r = RunProgram({"sh", "-c", "echo half; kill -TERM $$"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 128 + 15);
  EXPECT_EQ(r->out, "half\n");
}

TEST(EngineProcessTest, ChildThatIgnoresStdinDoesNotKillUs) {
  auto r = RunProgram({"sh", "-c", "exit 0"}, std::string(1 << 20, 'y'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
}

}  // namespace
}  // namespace fb
