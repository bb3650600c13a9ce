// The supervisor's policy (RunLocalJob: restarts, stop, cancel) against a
// fake ProcessRunner: no real worker runs; each "worker" ends as the test
// says, and every start and signal is recorded. The real-process behaviour
// is covered by tests/runner/run_e2e.py.
#include "runner/local_job.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "common/exit_codes.h"
#include "common/process.h"
#include "common/test_dir.h"
#include "runner/job_db.h"

namespace fb {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ArgAfter(const std::vector<std::string>& argv, const std::string& flag) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return "";
}

class FakeProcesses final : public ProcessRunner {
 public:
  struct Behaviour;
  // Ends with `code` at the next poll (with 0 and `finish`: its files recorded done).
  static Behaviour Exits(int code, bool finish = false);
  static Behaviour Killed(int signal);  // killed by `signal` at the next poll
  static Behaviour Runs();              // until SIGTERM (then exits 75) or SIGKILL
  // What a started worker does.
  struct Behaviour {
    std::optional<int> exit_code;  // ends with it at the next poll
    std::optional<int> signal;     // or is killed by it at the next poll
    // Otherwise it runs until signalled: SIGKILL ends it; SIGTERM ends it
    // with `on_term`, or is ignored when that is empty.
    std::optional<int> on_term = kExitInterrupted;
    bool finish_files = false;  // with exit 0: records its files done, as a worker would
  };
  struct Proc {
    ProcessId id = 0;
    int64_t index = 0;
    int attempt = 0;
    std::vector<std::string> argv;
    std::string program;
    std::optional<std::vector<std::string>> env;
    Behaviour behaviour;
    std::optional<ProcessExit> end;  // decided, not yet polled
    bool reaped = false;
    std::vector<std::pair<int, Clock::time_point>> signals;
  };

  std::function<Behaviour(int64_t index, int attempt)> behave;
  std::function<void()> on_poll;  // called at every poll, before anything ends
  std::string state_dir;
  std::vector<Proc> procs;  // every start, in order

  Result<ProcessId> Start(const ProcessSpec& spec) override {
    Proc p;
    p.id = 1000 + static_cast<ProcessId>(procs.size());
    p.argv = spec.argv;
    p.program = spec.program;
    p.env = spec.env;
    p.index = std::stoll(ArgAfter(spec.argv, "--index"));
    for (const auto& q : procs) p.attempt += q.index == p.index;
    ++p.attempt;
    p.behaviour = behave(p.index, p.attempt);
    if (p.behaviour.exit_code) p.end = Exit(p.id, *p.behaviour.exit_code, 0);
    if (p.behaviour.signal) p.end = Exit(p.id, -1, *p.behaviour.signal);
    procs.push_back(p);
    return p.id;
  }

  std::optional<ProcessExit> Poll() override {
    if (on_poll) on_poll();
    for (auto& p : procs) {
      if (p.reaped || !p.end) continue;
      p.reaped = true;
      if (p.end->exit_code == 0 && p.behaviour.finish_files) FinishFiles(p);
      return p.end;
    }
    return std::nullopt;
  }

  Result<ProcessExit> Wait(ProcessId) override { return Internal("the supervisor never waits"); }

  void SignalGroup(ProcessId id, int signal) override {
    for (auto& p : procs) {
      if (p.id != id) continue;
      EXPECT_FALSE(p.reaped) << "signal " << signal << " to a reaped worker";
      p.signals.emplace_back(signal, Clock::now());
      if (p.end) return;
      if (signal == SIGKILL) p.end = Exit(id, -1, SIGKILL);
      if (signal == SIGTERM && p.behaviour.on_term) p.end = Exit(id, *p.behaviour.on_term, 0);
    }
  }

  int Starts(int64_t index) const {
    int n = 0;
    for (const auto& p : procs) n += p.index == index;
    return n;
  }
  std::vector<int> Signals(int64_t index) const {
    std::vector<int> s;
    for (const auto& p : procs) {
      if (p.index == index) {
        for (const auto& [sig, _] : p.signals) s.push_back(sig);
      }
    }
    return s;
  }
  bool AllStarted(size_t n) const { return procs.size() >= n; }
  std::string Job() const { return procs.empty() ? "" : ArgAfter(procs[0].argv, "--job"); }

 private:
  static ProcessExit Exit(ProcessId id, int code, int signal) {
    ProcessExit e;
    e.id = id;
    e.exit_code = code;
    e.signal = signal;
    e.user_seconds = 0.5;
    return e;
  }
  void FinishFiles(const Proc& p) {
    auto db = JobDb::Open(state_dir);
    ASSERT_TRUE(db.ok());
    const std::string job = ArgAfter(p.argv, "--job");
    auto files = (*db)->Files(job);
    ASSERT_TRUE(files.ok());
    for (FileRecord f : *files) {
      if (f.task != p.index) continue;
      f.state = FileState::kDone;
      f.rows = 10;
      f.attempts = 1;
      ASSERT_TRUE((*db)->RecordFile(job, f).ok());
    }
  }
};

FakeProcesses::Behaviour FakeProcesses::Exits(int code, bool finish) {
  Behaviour b;
  b.exit_code = code;
  b.finish_files = finish;
  return b;
}
FakeProcesses::Behaviour FakeProcesses::Killed(int signal) {
  Behaviour b;
  b.signal = signal;
  return b;
}
FakeProcesses::Behaviour FakeProcesses::Runs() { return Behaviour(); }

class Supervisor : public testing::TestDirTest {
 protected:
  void SetUp() override {
    TestDirTest::SetUp();
    fs::create_directories(dir_ / "in");
    for (int i = 0; i < 4; ++i) std::ofstream(dir_ / "in" / ("f" + std::to_string(i) + ".csv")) << "1,2\n";
    spec_.input = Path("in");
    spec_.output = Path("out");
    spec_.exec = "cp {input} {output}";
    spec_.workers = 2;
    spec_.threads = 1;
    spec_.task_retries = 2;
    spec_.grace_seconds = 0;
    options_.state_dir = Path("st");
    options_.self_exe = "/nonexistent/forestbatch";  // never run: the fake starts nothing
    options_.progress = nullptr;
    options_.processes = &fake_;
    options_.restart_delay_seconds = 0.02;
    options_.kill_margin_seconds = 0.3;
    options_.poll_seconds = 0.005;
    fake_.state_dir = options_.state_dir;
  }

  JobOutcome Run() {
    auto r = RunLocalJob(spec_, "", options_, stop_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : JobOutcome{};
  }

  std::map<int64_t, TaskRecord> Tasks(const std::string& job) {
    auto db = JobDb::Open(options_.state_dir);
    EXPECT_TRUE(db.ok());
    auto tasks = (*db)->Tasks(job);
    EXPECT_TRUE(tasks.ok());
    std::map<int64_t, TaskRecord> m;
    for (const auto& t : *tasks) m[t.index] = t;
    return m;
  }

  JobSpec spec_;
  RunOptions options_;
  FakeProcesses fake_;
  std::atomic<bool> stop_{false};
};

TEST_F(Supervisor, WorkersThatSucceedAreNotRestarted) {
  fake_.behave = [](int64_t, int) { return FakeProcesses::Exits(0, true); };
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kSucceeded);
  EXPECT_EQ(o.counts.done, 4);
  EXPECT_EQ(fake_.Starts(0), 1);
  EXPECT_EQ(fake_.Starts(1), 1);
  // What a worker is started with: this job's task of two, never a shell;
  // this binary, named `forestbatch worker ...` in ps.
  const auto& argv = fake_.procs[0].argv;
  EXPECT_EQ(fake_.procs[0].program, "/nonexistent/forestbatch");
  EXPECT_EQ(argv[0], "forestbatch");
  EXPECT_EQ(argv[1], "worker");
  EXPECT_EQ(ArgAfter(argv, "--count"), "2");
  EXPECT_EQ(ArgAfter(argv, "--exec"), "cp {input} {output}");
  EXPECT_FALSE(fake_.procs[0].env.has_value());  // our environment, as it is
  auto tasks = Tasks(o.job);
  EXPECT_EQ(tasks[0].state, TaskState::kSucceeded);
  EXPECT_EQ(tasks[1].attempts, 1);
  EXPECT_DOUBLE_EQ(o.vcpu_seconds, 1.0);  // each attempt's CPU time is the job's
}

TEST_F(Supervisor, WorkersGetTheRunsEnvironmentAndNoneOfItIsRecorded) {
  fake_.behave = [](int64_t, int) { return FakeProcesses::Exits(0, true); };
  options_.worker_env = {"FB_SUPERVISOR_TEST=3"};
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kSucceeded);
  ASSERT_EQ(fake_.procs.size(), 2u);
  for (const auto& p : fake_.procs) {
    ASSERT_TRUE(p.env.has_value());
    EXPECT_EQ(std::count(p.env->begin(), p.env->end(), "FB_SUPERVISOR_TEST=3"), 1);
  }
  EXPECT_EQ(std::getenv("FB_SUPERVISOR_TEST"), nullptr);
  auto db = JobDb::Open(options_.state_dir);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*(*db)->GetJob(o.job))->spec_json.find("FB_SUPERVISOR_TEST"), std::string::npos);
}

TEST_F(Supervisor, AWorkerThatDiesIsRestartedUntilItsRetriesAreSpent) {
  fake_.behave = [](int64_t index, int) {
    if (index == 0) return FakeProcesses::Exits(0, true);
    return FakeProcesses::Killed(SIGKILL);  // the OOM killer, every time
  };
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kFailed);
  EXPECT_EQ(fake_.Starts(0), 1);
  EXPECT_EQ(fake_.Starts(1), 1 + spec_.task_retries);
  // Every attempt is the same worker.
  EXPECT_EQ(fake_.procs.back().argv, fake_.procs[1].argv);
  auto tasks = Tasks(o.job);
  EXPECT_EQ(tasks[1].state, TaskState::kFailed);
  EXPECT_EQ(tasks[1].attempts, 3);
  EXPECT_EQ(tasks[1].signal, SIGKILL);
  EXPECT_EQ(tasks[1].exit_code, -1);
}

TEST_F(Supervisor, ARestartedWorkerThatSucceedsEndsTheJobWell) {
  fake_.behave = [](int64_t index, int attempt) {
    if (index == 1 && attempt == 1) return FakeProcesses::Exits(kExitIoError);
    return FakeProcesses::Exits(0, true);
  };
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kSucceeded);
  EXPECT_EQ(fake_.Starts(1), 2);
  EXPECT_EQ(Tasks(o.job)[1].attempts, 2);
}

TEST_F(Supervisor, APermanentExitIsNotRestarted) {
  for (int code : {kExitUsage, kExitDataError, kExitUnsupported, kExitNotFound, kExitAlreadyExists}) {
    FakeProcesses fresh;
    fresh.state_dir = options_.state_dir;
    options_.processes = &fresh;
    fresh.behave = [code](int64_t index, int) {
      if (index == 0) return FakeProcesses::Exits(0, true);
      return FakeProcesses::Exits(code);
    };
    JobOutcome o = Run();
    EXPECT_EQ(o.state, JobState::kFailed) << code;
    EXPECT_EQ(fresh.Starts(1), 1) << code;
    EXPECT_EQ(Tasks(o.job)[1].exit_code, code);
  }
}

TEST_F(Supervisor, SomeFailedFilesAreTheWorkersAnswerNotACrash) {
  fake_.behave = [](int64_t index, int) {
    return FakeProcesses::Exits(index == 1 ? kExitSomeFailed : kExitOk, true);
  };
  JobOutcome o = Run();
  EXPECT_EQ(fake_.Starts(1), 1);
  EXPECT_EQ(Tasks(o.job)[1].state, TaskState::kFailed);
  EXPECT_EQ(o.state, JobState::kFailed);
}

TEST_F(Supervisor, AStopSignalsEveryGroupThenKillsThoseThatStay) {
  fake_.behave = [](int64_t index, int) {
    FakeProcesses::Behaviour b;
    if (index == 1) b.on_term.reset();  // ignores SIGTERM
    return b;
  };
  fake_.on_poll = [&] {
    if (fake_.AllStarted(2)) stop_ = true;
  };
  const auto start = Clock::now();
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kInterrupted);
  EXPECT_EQ(fake_.Starts(0), 1);  // nothing restarted after a stop
  EXPECT_EQ(fake_.Starts(1), 1);
  EXPECT_EQ(fake_.Signals(0), std::vector<int>{SIGTERM});
  EXPECT_EQ(fake_.Signals(1), (std::vector<int>{SIGTERM, SIGKILL}));
  // SIGKILL only once the grace (0 s) and the margin have passed.
  const auto& s = fake_.procs[1].signals;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_GE(std::chrono::duration<double>(s[1].second - s[0].second).count(), options_.kill_margin_seconds);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0);
  auto tasks = Tasks(o.job);
  EXPECT_EQ(tasks[0].state, TaskState::kInterrupted);
  EXPECT_EQ(tasks[1].state, TaskState::kInterrupted);
  EXPECT_EQ(tasks[1].signal, SIGKILL);
}

TEST_F(Supervisor, AStopDuringARestartWaitStartsNothingMore) {
  options_.restart_delay_seconds = 30;  // the test would time out if it waited
  fake_.behave = [](int64_t index, int) {
    if (index == 1) return FakeProcesses::Killed(SIGSEGV);
    return FakeProcesses::Runs();  // runs until SIGTERM
  };
  bool seen_death = false;
  fake_.on_poll = [&] {
    if (seen_death) stop_ = true;
    seen_death = seen_death || (fake_.procs.size() == 2 && fake_.procs[1].reaped);
  };
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kInterrupted);
  EXPECT_EQ(fake_.Starts(1), 1);
  EXPECT_TRUE(fake_.Signals(1).empty());  // it was dead: nothing sent to its old group
  EXPECT_EQ(fake_.Signals(0), std::vector<int>{SIGTERM});
  EXPECT_EQ(Tasks(o.job)[1].state, TaskState::kInterrupted);
}

TEST_F(Supervisor, ACancelStopsTheWorkersAndEndsCancelled) {
  fake_.behave = [](int64_t, int) { return FakeProcesses::Runs(); };  // run until SIGTERM, then exit 75
  bool marked = false;
  fake_.on_poll = [&] {
    if (marked || !fake_.AllStarted(2)) return;
    // What `forestbatch cancel JOB` does from another process.
    auto db = JobDb::Open(options_.state_dir);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->UpdateJob(fake_.Job(), JobState::kCancelling, -1, 0).ok());
    marked = true;
  };
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kCancelled);
  EXPECT_EQ(fake_.Signals(0), std::vector<int>{SIGTERM});
  EXPECT_EQ(fake_.Signals(1), std::vector<int>{SIGTERM});
  EXPECT_EQ(fake_.procs.size(), 2u);
  auto db = JobDb::Open(options_.state_dir);
  ASSERT_TRUE(db.ok());
  auto rec = (*db)->GetJob(o.job);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->state, JobState::kCancelled);
  EXPECT_EQ((*rec)->exit_code, kExitInterrupted);
}

TEST_F(Supervisor, AWorkerThatCannotStartIsRetriedThenFailsTheJob) {
  // The real runner: a worker binary that is not there exits 127, a
  // restartable death, until the task's retries are spent.
  auto real = MakeProcessRunner();
  options_.processes = real.get();
  spec_.task_retries = 1;
  JobOutcome o = Run();
  EXPECT_EQ(o.state, JobState::kFailed);
  auto tasks = Tasks(o.job);
  EXPECT_EQ(tasks[0].exit_code, kExitCannotExec);
  EXPECT_EQ(tasks[0].attempts, 2);
  std::ifstream log(TaskLogPath(options_.state_dir, o.job, 0));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("=== attempt 2"), std::string::npos) << text;
  EXPECT_NE(text.find("cannot run the worker /nonexistent/forestbatch"), std::string::npos) << text;
}

}  // namespace
}  // namespace fb
