#include "common/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/exit_codes.h"
#include "common/test_dir.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

class ProcessTest : public testing::TestDirTest {
 protected:
  std::string Read(const std::string& name) {
    std::ifstream f(Path(name));
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  // Polls until a process ends (at most 10 s).
  ProcessExit PollUntilEnded(ProcessRunner& r) {
    for (int i = 0; i < 1000; ++i) {
      if (auto e = r.Poll()) return *e;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no process ended";
    return {};
  }
};

TEST_F(ProcessTest, RunsArgvWithoutAShellIntoTheLog) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  // A file name a shell would run: here it is one argument, printed as is.
  s.argv = {"/bin/echo", "$(touch PWNED)", "a b"};
  s.log_path = Path("log");
  s.log_banner = "=== attempt 1\n";
  s.workdir = dir_.string();
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto e = r->Wait(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->id, *id);
  EXPECT_EQ(e->exit_code, 0);
  EXPECT_EQ(e->signal, 0);
  EXPECT_EQ(Read("log"), "=== attempt 1\n$(touch PWNED) a b\n");
  EXPECT_FALSE(fs::exists(Path("PWNED")));
  EXPECT_FALSE(r->Poll().has_value());  // reaped once
}

// `program` runs one file while argv[0] names the process (what ps shows):
// the supervisor runs /proc/self/exe as "forestbatch".
TEST_F(ProcessTest, AProgramRunsUnderTheNameArgvZeroGives) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.program = "/bin/sh";
  s.argv = {"forestbatch", "-c", "tr '\\0' ' ' </proc/$$/cmdline; echo; echo \"$0\""};
  s.log_path = Path("log");
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto e = r->Wait(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->exit_code, 0);
  const std::string log = Read("log");
  EXPECT_EQ(log.substr(0, 15), "forestbatch -c ") << log;
  EXPECT_NE(log.find("\nforestbatch\n"), std::string::npos) << log;
}

TEST_F(ProcessTest, ExitCodesSignalsWorkdirAndEnvironment) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"sh", "-c", "pwd > here; echo \"$FB_X\" > env; exit 3"};
  s.search_path = true;
  s.workdir = dir_.string();
  s.env = std::vector<std::string>{"FB_X=x y", "PATH=/usr/bin:/bin"};
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  auto e = r->Wait(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->exit_code, 3);
  EXPECT_EQ(Read("here"), fs::canonical(dir_).string() + "\n");
  EXPECT_EQ(Read("env"), "x y\n");
}

TEST(EnvironmentWith, ReplacesOrAddsOnlyTheNamedVariables) {
  ASSERT_EQ(::setenv("FB_ENV_TEST_A", "old", 1), 0);
  ASSERT_EQ(::setenv("FB_ENV_TEST_AB", "kept", 1), 0);
  const std::vector<std::string> env = EnvironmentWith({"FB_ENV_TEST_A=new", "FB_ENV_TEST_C=c=d"});
  ::unsetenv("FB_ENV_TEST_A");
  ::unsetenv("FB_ENV_TEST_AB");
  auto count = [&](const std::string& entry) { return std::count(env.begin(), env.end(), entry); };
  EXPECT_EQ(count("FB_ENV_TEST_A=new"), 1);
  EXPECT_EQ(count("FB_ENV_TEST_A=old"), 0);
  EXPECT_EQ(count("FB_ENV_TEST_AB=kept"), 1);  // a longer name is another variable
  EXPECT_EQ(count("FB_ENV_TEST_C=c=d"), 1);
  EXPECT_EQ(getenv("FB_ENV_TEST_C"), nullptr);  // ours unchanged
  EXPECT_TRUE(
      std::any_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("PATH=", 0) == 0; }));
}

TEST_F(ProcessTest, AProgramThatCannotRunExits127AndSaysSo) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {Path("no-such-program")};
  s.log_path = Path("log");
  s.exec_failure_message = "forestbatch: cannot run the command";
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  auto e = r->Wait(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->exit_code, kExitCannotExec);
  EXPECT_EQ(Read("log"), "forestbatch: cannot run the command\n");
}

TEST_F(ProcessTest, ALogThatCannotBeOpenedIsAnErrorNamingIt) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"/bin/true"};
  s.log_path = Path("no/such/folder/log");
  auto id = r->Start(s);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().ToString().find("no/such/folder/log"), std::string::npos);
}

TEST_F(ProcessTest, ASignalReachesTheWholeGroup) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  // The leader outlives SIGTERM until its child, which says it got the
  // signal too, has ended.
  s.argv = {"/bin/sh", "-c",
            "trap : TERM; (trap 'touch got; exit 0' TERM; : > started; while :; do sleep 0.05; done) & "
            "while [ ! -e got ]; do wait; done"};
  s.workdir = dir_.string();
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  for (int i = 0; i < 500 && !fs::exists(Path("started")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  r->SignalGroup(*id, SIGTERM);
  ProcessExit e = PollUntilEnded(*r);
  EXPECT_EQ(e.id, *id);
  EXPECT_TRUE(fs::exists(Path("got")));
}

TEST_F(ProcessTest, ASignalEndsAProcess) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"/bin/sleep", "30"};
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  r->SignalGroup(*id, SIGTERM);
  auto e = r->Wait(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->exit_code, -1);
  EXPECT_EQ(e->signal, SIGTERM);
}

TEST_F(ProcessTest, WhatAProcessLeftInItsGroupDiesWithIt) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"/bin/sh", "-c", "(sleep 1; touch late) & exit 0"};
  s.workdir = dir_.string();
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  ProcessExit e = PollUntilEnded(*r);
  EXPECT_EQ(e.exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(fs::exists(Path("late")));
}

TEST_F(ProcessTest, NothingIsSentToAReapedProcess) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"/bin/true"};
  auto id = r->Start(s);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(r->Wait(*id).ok());
  r->SignalGroup(*id, SIGKILL);  // its id may be another process's now: a no-op
  EXPECT_FALSE(r->Wait(*id).ok());
}

TEST_F(ProcessTest, ADetachedProcessIsNotOursAndOutlivesItsRunner) {
  {
    auto r = MakeProcessRunner();
    ProcessSpec s;
    s.argv = {"/bin/sh", "-c", "sleep 0.3; echo $PPID > ppid; cut -d' ' -f6 /proc/$$/stat > sid"};
    s.workdir = dir_.string();
    s.stdin_null = true;
    s.detached = true;
    auto id = r->Start(s);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(*id, 0);
    EXPECT_FALSE(r->Poll().has_value());
  }  // the runner is gone: a detached process is not killed with it
  for (int i = 0; i < 500 && Read("sid").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(Read("ppid"), std::to_string(::getpid()) + "\n");
  EXPECT_NE(std::stol(Read("sid")), static_cast<long>(::getsid(0)));  // a session of its own
}

TEST_F(ProcessTest, ARunnerKillsWhatItStartedWhenDestroyed) {
  {
    auto r = MakeProcessRunner();
    ProcessSpec s;
    s.argv = {"/bin/sh", "-c", "sleep 1; touch late"};
    s.workdir = dir_.string();
    ASSERT_TRUE(r->Start(s).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(fs::exists(Path("late")));
}

TEST_F(ProcessTest, WaitingForAnExitReturnsWhenAProcessEnds) {
  auto r = MakeProcessRunner();
  ProcessSpec s;
  s.argv = {"/bin/sleep", "30"};
  auto long_one = r->Start(s);
  ASSERT_TRUE(long_one.ok());
  // Nothing ends: the whole wait passes.
  auto t0 = std::chrono::steady_clock::now();
  r->WaitForAnExit(0.2);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(190));
  EXPECT_FALSE(r->Poll().has_value());
  // One of two ends (before the wait starts or during it: a worker may end
  // between the watcher's Poll and its wait): the wait returns then, not
  // after its 30 s, and Poll has the exit.
  s.argv = {"/bin/true"};
  auto short_one = r->Start(s);
  ASSERT_TRUE(short_one.ok());
  t0 = std::chrono::steady_clock::now();
  r->WaitForAnExit(30);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  std::optional<ProcessExit> e = r->Poll();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, *short_one);
  EXPECT_EQ(e->exit_code, 0);
  r->SignalGroup(*long_one, SIGKILL);
  ASSERT_TRUE(r->Wait(*long_one).ok());
  // With nothing live it sleeps, as the default does.
  t0 = std::chrono::steady_clock::now();
  r->WaitForAnExit(0.05);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(45));
}

}  // namespace
}  // namespace fb
