#include "runner/claims.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage/memory_storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<double>> t = std::make_shared<std::atomic<double>>(1000.0);
  std::function<double()> fn() const {
    auto p = t;
    return [p] { return p->load(); };
  }
  void Advance(double s) { t->store(t->load() + s); }
};

ClaimOptions Opts(int64_t task, double lease, std::function<double()> now = nullptr) {
  return ClaimOptions{lease, task, "job-1", std::move(now)};
}

// A tmpfs folder where one exists (the process races make thousands of
// fsyncs), else the test temporary folder.
fs::path ScratchRoot(const std::string& name) {
  fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::path(testing::TempDir());
  fs::path p = base / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A store that claims to create exclusively but never refuses (the failure
// the probe must catch: a gateway that drops If-None-Match).
class IgnoringStore final : public Storage {
 public:
  MemoryStorage base;
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return base.List(p); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& u) override { return base.Stat(u); }
  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& u) override { return base.OpenRead(u); }
  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& u) override { return base.OpenWrite(u); }
  Status Delete(const std::string& u) override { return base.Delete(u); }
  Status WriteIfAbsent(const std::string& u, std::string_view b) override { return base.WriteAll(u, b); }
};

TEST(Schedule, Parses) {
  EXPECT_EQ(*ParseSchedule("static"), Schedule::kStatic);
  EXPECT_EQ(*ParseSchedule("dynamic"), Schedule::kDynamic);
  EXPECT_FALSE(ParseSchedule("fast").ok());
  EXPECT_STREQ(ScheduleName(Schedule::kDynamic), "dynamic");
}

TEST(ClaimBook, ProbeAcceptsLocalFoldersAndConditionalStores) {
  fs::path root = ScratchRoot("fb_claims_probe");
  ClaimBook local(*LocalStorage(), (root / "claims").string(), Opts(0, 60));
  EXPECT_TRUE(local.Probe().ok()) << local.Probe().ToString();
  EXPECT_TRUE(fs::is_empty(root / "claims"));  // the probe cleans up
  fs::remove_all(root);

  MemoryStorage mem;
  ClaimBook m(mem, "mem://out/.claims", Opts(0, 60));
  EXPECT_TRUE(m.Probe().ok());
  EXPECT_TRUE(mem.Keys().empty());
}

TEST(ClaimBook, ProbeRefusesStoresWithoutConditionalWrites) {
  MemoryStorage mem;
  mem.set_conditional_writes(false);
  ClaimBook m(mem, "s3://b/out/.claims", Opts(0, 60));
  Status s = m.Probe();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.ToString().find("--schedule static"), std::string::npos) << s.ToString();

  IgnoringStore ignoring;
  ClaimBook i(ignoring, "s3://b/out/.claims", Opts(0, 60));
  s = i.Probe();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.ToString().find("If-None-Match"), std::string::npos) << s.ToString();
}

TEST(ClaimBook, OneWinnerThenFinishedForEveryone) {
  MemoryStorage mem;
  ClaimBook a(mem, "mem://c", Opts(0, 60)), b(mem, "mem://c", Opts(1, 60));
  auto ca = a.TryClaim("x.csv");
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->outcome, ClaimOutcome::kClaimed);
  auto cb = b.TryClaim("x.csv");
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->outcome, ClaimOutcome::kHeld);
  EXPECT_EQ(cb->record->task, 0);
  ASSERT_TRUE(a.Renew("x.csv").ok());
  ASSERT_TRUE(a.Finish("x.csv", true).ok());
  cb = b.TryClaim("x.csv");
  EXPECT_EQ(cb->outcome, ClaimOutcome::kFinished);
  EXPECT_EQ(cb->record->state, ClaimState::kDone);

  // A failure is final for the run too, and names the error.
  ASSERT_EQ(b.TryClaim("y.csv")->outcome, ClaimOutcome::kClaimed);
  ASSERT_TRUE(b.Finish("y.csv", false, "bad row 3").ok());
  auto ya = a.TryClaim("y.csv");
  EXPECT_EQ(ya->outcome, ClaimOutcome::kFinished);
  EXPECT_EQ(ya->record->state, ClaimState::kFailed);
  EXPECT_EQ(ya->record->error, "bad row 3");

  // Abandoning gives the file straight back.
  ASSERT_EQ(a.TryClaim("z.csv")->outcome, ClaimOutcome::kClaimed);
  ASSERT_TRUE(a.Abandon("z.csv").ok());
  EXPECT_EQ(b.TryClaim("z.csv")->outcome, ClaimOutcome::kClaimed);

  auto all = a.ReadAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->at("x.csv").task, 0);
  EXPECT_EQ(all->at("z.csv").task, 1);
  EXPECT_EQ(all->at("z.csv").state, ClaimState::kClaimed);
}

TEST(ClaimBook, ExpiresOnlyAfterALeaseWithoutRenewalSeenByTheReader) {
  MemoryStorage mem;
  FakeClock clock;
  ClaimBook owner(mem, "mem://c", Opts(0, 10, clock.fn())), other(mem, "mem://c", Opts(1, 10, clock.fn()));
  ASSERT_EQ(owner.TryClaim("f")->outcome, ClaimOutcome::kClaimed);
  EXPECT_EQ(other.TryClaim("f")->outcome, ClaimOutcome::kHeld);  // first seen now
  clock.Advance(9);
  EXPECT_EQ(other.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  ASSERT_TRUE(owner.Renew("f").ok());  // a renewal restarts the reader's count
  clock.Advance(9);
  EXPECT_EQ(other.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  clock.Advance(9.5);
  EXPECT_EQ(other.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  clock.Advance(0.5);  // 10 s since the reader first saw renewal 1
  auto t = other.TryClaim("f");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->outcome, ClaimOutcome::kClaimed);
  EXPECT_TRUE(t->takeover);
  EXPECT_EQ(t->record->task, 0);
  // The old owner learns at its next heartbeat, and its failure is not recorded.
  Status r = owner.Renew("f");
  EXPECT_EQ(r.code(), StatusCode::kCancelled) << r.ToString();
  EXPECT_NE(r.ToString().find("task 1"), std::string::npos) << r.ToString();
  ASSERT_TRUE(owner.Finish("f", false, "cancelled").ok());
  EXPECT_EQ(other.ReadAll()->at("f").state, ClaimState::kClaimed);
  EXPECT_EQ(other.ReadAll()->at("f").task, 1);
}

TEST(ClaimBook, ClockSkewDoesNotMatterOnlyTheReadersOwnClockCounts) {
  // Two readers with clocks hours apart judge the same claim alike: only
  // how long each watched it unchanged counts.
  MemoryStorage mem;
  FakeClock near, far;
  far.Advance(7200);
  ClaimBook owner(mem, "mem://c", Opts(0, 5, near.fn()));
  ClaimBook r1(mem, "mem://c", Opts(1, 5, near.fn())), r2(mem, "mem://c", Opts(2, 5, far.fn()));
  ASSERT_EQ(owner.TryClaim("f")->outcome, ClaimOutcome::kClaimed);
  EXPECT_EQ(r1.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  EXPECT_EQ(r2.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  near.Advance(4);
  far.Advance(4);
  EXPECT_EQ(r1.TryClaim("f")->outcome, ClaimOutcome::kHeld);
  EXPECT_EQ(r2.TryClaim("f")->outcome, ClaimOutcome::kHeld);
}

TEST(ClaimBook, RetriedCreateWhoseAnswerWasLostStillWins) {
  auto mem = std::make_shared<MemoryStorage>();
  FaultInjectingStorage faulty(mem);
  FaultRule lost_answer;
  lost_answer.op = StorageOp::kWriteIfAbsent;
  lost_answer.nth = 1;
  lost_answer.code = StatusCode::kAlreadyExists;
  lost_answer.after_commit = true;
  faulty.AddRule(lost_answer);
  ClaimBook a(faulty, "mem://c", Opts(0, 60));
  auto c = a.TryClaim("f");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->outcome, ClaimOutcome::kClaimed);
  EXPECT_TRUE(a.Renew("f").ok());
}

TEST(ClaimBook, StoreErrorsAreErrorsNotClaims) {
  auto mem = std::make_shared<MemoryStorage>();
  FaultInjectingStorage faulty(mem);
  FaultRule down;
  down.op = StorageOp::kWriteIfAbsent;
  down.code = StatusCode::kIoError;
  faulty.AddRule(down);
  ClaimBook a(faulty, "mem://c", Opts(0, 60));
  auto c = a.TryClaim("f");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIoError);

  mem->Put("mem://c/garbage.claim", "{not json");
  ClaimBook b(*mem, "mem://c", Opts(0, 60));
  EXPECT_TRUE(b.ReadAll().ok());  // unreadable claims are left out of listings
}

TEST(ClaimBook, ThreadsRaceForEachFileAndExactlyOneWinsThousandsOfTimes) {
  MemoryStorage mem;
  constexpr int kThreads = 4, kFiles = 3000;
  std::vector<std::vector<int>> wins(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ClaimBook book(mem, "mem://c", Opts(t, 60));
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int f = 0; f < kFiles; ++f) {
        auto c = book.TryClaim("f" + std::to_string(f));
        if (c.ok() && c->outcome == ClaimOutcome::kClaimed) wins[t].push_back(f);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> owners(kFiles, 0);
  for (auto& w : wins)
    for (int f : w) ++owners[f];
  for (int f = 0; f < kFiles; ++f) ASSERT_EQ(owners[f], 1) << "file " << f;
}

TEST(ClaimBook, ThreadsRaceToTakeOverOneExpiredClaimAndOneWins) {
  MemoryStorage mem;
  FakeClock clock;
  constexpr int kThreads = 6, kRounds = 300;
  for (int round = 0; round < kRounds; ++round) {
    const std::string file = "f" + std::to_string(round);
    ClaimBook owner(mem, "mem://c", Opts(99, 1, clock.fn()));
    ASSERT_EQ(owner.TryClaim(file)->outcome, ClaimOutcome::kClaimed);
    std::vector<std::unique_ptr<ClaimBook>> books;
    for (int t = 0; t < kThreads; ++t) {
      books.push_back(std::make_unique<ClaimBook>(mem, "mem://c", Opts(t, 1, clock.fn())));
      ASSERT_EQ(books.back()->TryClaim(file)->outcome, ClaimOutcome::kHeld);
    }
    clock.Advance(2);
    std::atomic<int> won{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto c = books[t]->TryClaim(file);
        if (c.ok() && c->outcome == ClaimOutcome::kClaimed) ++won;
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(owner.Renew(file).code(), StatusCode::kCancelled);
  }
  // No takeover marks are left behind.
  for (const std::string& k : mem.Keys()) EXPECT_EQ(k.find("takeover"), std::string::npos) << k;
}

TEST(ClaimBook, ProcessesRaceOnALocalFolderAndExactlyOneWinsEachFile) {
  fs::path root = ScratchRoot("fb_claims_race");
  constexpr int kProcs = 4, kFiles = 1000;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ClaimBook book(*LocalStorage(), (root / "claims").string(), Opts(p, 60));
      std::ofstream wins(root / ("wins-" + std::to_string(p)));
      for (int f = 0; f < kFiles; ++f) {
        auto c = book.TryClaim("f" + std::to_string(f));
        if (!c.ok()) ::_exit(2);
        if (c->outcome == ClaimOutcome::kClaimed) wins << f << "\n";
      }
      wins.close();
      // Stay alive until every contender is done: a claim whose owner has
      // exited is (rightly) taken over at once, which is not this test.
      std::ofstream(root / ("finished-" + std::to_string(p))).close();
      for (int spins = 0; spins < 60000; ++spins) {
        int finished = 0;
        for (int q = 0; q < kProcs; ++q) finished += fs::exists(root / ("finished-" + std::to_string(q)));
        if (finished == kProcs) break;
        ::usleep(1000);
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int ws = 0;
    ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
    ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
  std::vector<int> owners(kFiles, 0);
  for (int p = 0; p < kProcs; ++p) {
    std::ifstream in(root / ("wins-" + std::to_string(p)));
    int f;
    while (in >> f) ++owners[f];
  }
  for (int f = 0; f < kFiles; ++f) ASSERT_EQ(owners[f], 1) << "file " << f;
  // No private temporaries are left in the claims folder.
  for (auto& e : fs::directory_iterator(root / "claims"))
    EXPECT_EQ(e.path().extension(), ".claim") << e.path();
  fs::remove_all(root);
}

TEST(ClaimBook, ADeadOwnerOnThisHostIsTakenOverAtOnce) {
  fs::path root = ScratchRoot("fb_claims_dead");
  const std::string claims = (root / "claims").string();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ClaimBook book(*LocalStorage(), claims, Opts(3, 3600));
    auto c = book.TryClaim("f");
    ::_exit(c.ok() && c->outcome == ClaimOutcome::kClaimed ? 0 : 1);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  ClaimBook book(*LocalStorage(), claims, Opts(0, 3600));  // an hour's lease: no waiting for it
  auto c = book.TryClaim("f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->outcome, ClaimOutcome::kClaimed);
  EXPECT_TRUE(c->takeover);
  EXPECT_EQ(c->record->task, 3);
  fs::remove_all(root);
}

TEST(ClaimsRoot, ComesFromTheEngineOrTheJob) {
  std::map<std::string, std::string> env;
  GetEnv get = [&env](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_EQ(*ClaimsRootFor("/c", "/out", "", get), "/c");
  EXPECT_EQ(ClaimsRootFor("", "/out", "", get).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ClaimsRootFor("", "/out/", "j1", get), "/out/.forestbatch-claims/j1");
  env["AWS_BATCH_JOB_ID"] = "abc-123:7";
  EXPECT_EQ(*ClaimsRootFor("", "s3://b/out", "j1", get), "s3://b/out/.forestbatch-claims/abc-123");
  env["SLURM_ARRAY_JOB_ID"] = "4242";
  EXPECT_EQ(*ClaimsRootFor("", "/out", "j1", get), "/out/.forestbatch-claims/4242");
  env["FORESTBATCH_RUN_ID"] = "../x y";
  EXPECT_EQ(*ClaimsRootFor("", "/out", "j1", get), "/out/.forestbatch-claims/_._x_y");
}

// A claim file's state is one of three names, written and read as such; any
// other is refused, naming the claim file.
TEST(ClaimRecord, StatesAreWrittenByNameAndUnknownOnesRefused) {
  ClaimRecord r;
  r.file = "a.csv";
  r.state = ClaimState::kFailed;
  r.error = "bad row";
  const std::string text = r.ToJson();
  EXPECT_NE(text.find("\"state\":\"failed\""), std::string::npos) << text;
  auto back = ClaimRecord::FromJson(text, "claims/a.csv.claim");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->state, ClaimState::kFailed);
  std::string odd = text;
  odd.replace(odd.find("\"failed\""), 8, "\"taken\"");
  auto bad = ClaimRecord::FromJson(odd, "claims/a.csv.claim");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(bad.status().ToString().find("claims/a.csv.claim"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(
      bad.status().message().find("bad claim: unknown claim state 'taken' (known: claimed, done, failed)"),
      std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace fb
