#include "runner/worker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/atomic_file.h"
#include "runner/manifest.h"
#include "storage/memory_storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// Upper-cases the input into the output; fails on demand.
class FaultyExecutor final : public FileExecutor {
 public:
  std::map<std::string, int> fail_first;  // file name -> attempts that fail
  std::set<std::string> always_fail;
  std::set<std::string> bad_data;  // fail with a data error (a bad field): permanent
  std::string cancel_on;           // file name during which the test's stop flag is raised
  std::atomic<bool>* stop = nullptr;
  std::map<std::string, int> calls;

  Result<FileStats> Run(const std::string& input, const std::string& output,
                        const std::atomic<bool>* cancel) override {
    const std::string name = fs::path(input).filename().string();
    int n = ++calls[name];
    if (name == cancel_on) {
      stop->store(true);
      while (!cancel->load()) std::this_thread::yield();  // grace 0: cancel comes at once
      return Cancelled("cancelled").At(input);
    }
    if (bad_data.count(name)) return InvalidData("not a number: 'x'").At(input, 2, 3);
    if (always_fail.count(name) || n <= fail_first[name]) return IoError("injected failure").At(input);
    FB_ASSIGN_OR_RETURN(std::string text, LocalStorage()->ReadAll(input));
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    FB_RETURN_IF_ERROR(LocalStorage()->WriteAll(output, text));
    FileStats st;
    st.rows = 1;
    st.output_bytes = text.size();
    st.output_sha256 = Sha256Hex(text);
    return st;
  }
};

class Recorder final : public WorkerListener {
 public:
  std::vector<FileEvent> events;
  void OnFile(const FileEvent& e) override { events.push_back(e); }
  int Count(FileState s) const {
    int n = 0;
    for (auto& e : events) n += e.state == s;
    return n;
  }
};

class WorkerTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) / ("fb_worker_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "in" / "sub");
    for (const char* p : {"a.csv", "b.csv", "sub/c.csv", "d.csv"})
      std::ofstream(root_ / "in" / p) << p << "\n";
    c_.input = (root_ / "in").string();
    c_.output = (root_ / "out").string();
    c_.backoff_seconds = 0;
    c_.grace_seconds = 0;
    c_.model_sha256 = "model";
    c_.options = "opts";
  }
  void TearDown() override { fs::remove_all(root_); }
  Result<WorkerSummary> Run(FileExecutor& ex, WorkerListener* l = nullptr) {
    return RunWorker(c_, *LocalStorage(), *LocalStorage(), ex, stop_, l,
                     [](double, const std::atomic<bool>&) {});
  }
  std::string Out(const std::string& rel) { return *ReadFile((root_ / "out" / rel).string()); }
  fs::path root_;
  WorkerConfig c_;
  std::atomic<bool> stop_{false};
};

TEST_F(WorkerTest, ProcessesEveryFileOnceThenSkips) {
  FaultyExecutor ex;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->done, 4u);
  EXPECT_EQ(Out("sub/c.csv"), "SUB/C.CSV\n");
  EXPECT_TRUE(fs::exists(root_ / "out" / "sub" / ".c.csv.fbmanifest.json"));
  s = Run(ex);
  EXPECT_EQ(s->skipped, 4u);
  EXPECT_EQ(s->done, 0u);
  EXPECT_EQ(ex.calls["a.csv"], 1);
}

TEST_F(WorkerTest, OnlyItsShard) {
  c_.index = 1;
  c_.count = 3;  // 4 files -> batch 2: task 1 takes the 3rd and 4th (d.csv, sub/c.csv)
  FaultyExecutor ex;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->shard_files, 2u);
  EXPECT_EQ(s->total_files, 4u);
  EXPECT_TRUE(fs::exists(root_ / "out" / "d.csv"));
  EXPECT_FALSE(fs::exists(root_ / "out" / "a.csv"));
}

TEST_F(WorkerTest, RetriesThenRecordsFailureAndGoesOn) {
  FaultyExecutor ex;
  ex.fail_first["a.csv"] = 2;
  ex.always_fail.insert("b.csv");
  c_.retries = 2;
  Recorder r;
  auto s = Run(ex, &r);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->done, 3u);
  EXPECT_EQ(s->failed, 1u);
  EXPECT_EQ(ex.calls["a.csv"], 3);
  EXPECT_EQ(ex.calls["b.csv"], 3);
  EXPECT_FALSE(fs::exists(root_ / "out" / "b.csv"));
  EXPECT_FALSE(fs::exists(root_ / "out" / ".b.csv.fbmanifest.json"));
  EXPECT_EQ(r.Count(FileState::kRetrying), 4);
  ASSERT_EQ(r.Count(FileState::kFailed), 1);
  for (auto& e : r.events) {
    if (e.state == FileState::kFailed) {
      EXPECT_NE(e.error.find("injected failure"), std::string::npos);
    }
  }
}

// Leaves each output's commit to the worker (as the built-in predictor
// does): Prepare writes the output under a temporary name; the returned
// PendingOutput renames it into place, checking that no manifest vouches for
// it before it is there, and fails on demand.
class DeferringExecutor final : public FileExecutor {
 public:
  std::map<std::string, int> commit_fail_first;  // file name -> commits that fail (I/O)
  std::set<std::string> commit_bad;              // commits that fail permanently
  std::string stop_after;                        // raise the stop flag once this file is prepared
  std::atomic<bool>* stop = nullptr;
  std::map<std::string, int> prepares;
  std::atomic<int> commits{0};
  std::atomic<int> manifest_before_output{0};

  Result<FileStats> Run(const std::string&, const std::string&, const std::atomic<bool>*) override {
    return Internal("the worker prepares, never runs");
  }
  Result<PreparedFile> Prepare(const std::string& input, const std::string& output,
                               const std::atomic<bool>*) override {
    const std::string name = fs::path(input).filename().string();
    const int n = ++prepares[name];
    FB_ASSIGN_OR_RETURN(std::string text, LocalStorage()->ReadAll(input));
    for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string temp = output + ".fbtmp.pending";
    fs::create_directories(fs::path(output).parent_path());
    FB_RETURN_IF_ERROR(LocalStorage()->WriteAll(temp, text));
    PreparedFile p;
    p.stats.rows = 1;
    p.stats.output_bytes = text.size();
    p.stats.output_sha256 = Sha256Hex(text);
    const bool fail = n <= commit_fail_first[name], bad = commit_bad.count(name) > 0;
    p.output = std::make_unique<Pending>(this, temp, output, fail, bad);
    if (name == stop_after) stop->store(true);
    return p;
  }

 private:
  class Pending final : public PendingOutput {
   public:
    Pending(DeferringExecutor* ex, std::string temp, std::string target, bool fail, bool bad)
        : ex_(ex), temp_(std::move(temp)), target_(std::move(target)), fail_(fail), bad_(bad) {}
    ~Pending() override {
      std::error_code ec;
      if (!committed_) fs::remove(temp_, ec);
    }
    Status Commit() override {
      ++ex_->commits;
      if (fs::exists(ManifestPathFor(target_))) ++ex_->manifest_before_output;
      if (bad_) return InvalidData("injected permanent commit failure").At(target_);
      if (fail_) return IoError("injected commit failure").At(target_);
      fs::rename(temp_, target_);
      committed_ = true;
      return Status::Ok();
    }

   private:
    DeferringExecutor* ex_;
    std::string temp_, target_;
    bool fail_, bad_, committed_ = false;
  };
};

// The built-in predictor's outputs are committed on another thread while the
// next file is predicted: every file still ends done, with its manifest
// written after its output is in place; a failed commit is a failed attempt
// (retried when it may pass, failed and leaving nothing otherwise); a stop
// still commits the file already predicted.
TEST_F(WorkerTest, CommitsOnAnotherThreadKeepTheGuarantees) {
  {
    DeferringExecutor ex;
    Recorder r;
    auto s = Run(ex, &r);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->done, 4u);
    EXPECT_EQ(s->rows, 4u);
    EXPECT_EQ(ex.commits.load(), 4);
    EXPECT_EQ(ex.manifest_before_output.load(), 0);
    EXPECT_EQ(Out("sub/c.csv"), "SUB/C.CSV\n");
    for (const char* m : {".a.csv.fbmanifest.json", ".b.csv.fbmanifest.json", "sub/.c.csv.fbmanifest.json"}) {
      auto text = ReadFile((root_ / "out" / m).string());
      ASSERT_TRUE(text.ok()) << m;
      auto parsed = Manifest::Parse(*text, m);
      ASSERT_TRUE(parsed.ok()) << m;
      EXPECT_EQ(parsed->attempts, 1);
    }
    EXPECT_EQ(r.Count(FileState::kDone), 4);
    EXPECT_EQ(r.Count(FileState::kRunning), 4);
    s = Run(ex, &r);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->skipped, 4u);
  }
  fs::remove_all(root_ / "out");
  {
    DeferringExecutor ex;
    ex.commit_fail_first["a.csv"] = 1;  // passes on the second attempt
    ex.commit_bad.insert("b.csv");      // never: failed at once
    c_.retries = 2;
    Recorder r;
    auto s = Run(ex, &r);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->done, 3u);
    EXPECT_EQ(s->failed, 1u);
    EXPECT_EQ(ex.prepares["a.csv"], 2);
    EXPECT_EQ(ex.prepares["b.csv"], 1);
    EXPECT_EQ(Out("a.csv"), "A.CSV\n");
    auto m = Manifest::Parse(*ReadFile((root_ / "out" / ".a.csv.fbmanifest.json").string()), "a");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->attempts, 2);
    EXPECT_FALSE(fs::exists(root_ / "out" / "b.csv"));
    EXPECT_FALSE(fs::exists(root_ / "out" / ".b.csv.fbmanifest.json"));
    EXPECT_FALSE(fs::exists(root_ / "out" / "b.csv.fbtmp.pending"));
    EXPECT_EQ(r.Count(FileState::kRetrying), 1);
    for (const FileEvent& e : r.events) {
      if (e.state == FileState::kFailed) {
        EXPECT_NE(e.error.find("permanent commit failure"), std::string::npos);
      }
    }
  }
  fs::remove_all(root_ / "out");
  {
    DeferringExecutor ex;
    ex.stop = &stop_;
    ex.stop_after = "b.csv";  // the second file in order (a, b, d, sub/c)
    auto s = Run(ex);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->interrupted);
    EXPECT_EQ(s->done, 2u);
    EXPECT_EQ(Out("b.csv"), "B.CSV\n");
    EXPECT_TRUE(fs::exists(root_ / "out" / ".b.csv.fbmanifest.json"));
    EXPECT_FALSE(fs::exists(root_ / "out" / "d.csv"));
  }
}

// A bad field fails the same way on every attempt: it is recorded as failed at
// once, without the retries and their back-off (which took about 7 s a file).
TEST_F(WorkerTest, PermanentDataErrorsAreNotRetried) {
  FaultyExecutor ex;
  ex.bad_data.insert("b.csv");
  ex.fail_first["a.csv"] = 1;  // transient: still retried
  c_.retries = 3;
  c_.backoff_seconds = 1000;  // a retry of b.csv would hang the test
  Recorder r;
  std::vector<double> waits;
  auto s = RunWorker(c_, *LocalStorage(), *LocalStorage(), ex, stop_, &r,
                     [&waits](double w, const std::atomic<bool>&) { waits.push_back(w); });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->failed, 1u);
  EXPECT_EQ(s->done, 3u);
  EXPECT_EQ(ex.calls["b.csv"], 1);
  EXPECT_EQ(ex.calls["a.csv"], 2);
  EXPECT_EQ(waits.size(), 1u);  // a.csv's one back-off
  for (auto& e : r.events) {
    if (e.input.find("b.csv") != std::string::npos) {
      EXPECT_NE(e.state, FileState::kRetrying);
    }
  }
}

TEST_F(WorkerTest, OutputWithoutManifestIsRedoneAndConflictsNeedOverwrite) {
  FaultyExecutor ex;
  ASSERT_TRUE(Run(ex).ok());
  // A kill between output and manifest: the output is there, its manifest not.
  fs::remove(root_ / "out" / ".a.csv.fbmanifest.json");
  std::ofstream(root_ / "out" / "a.csv") << "partial";
  auto s = Run(ex);
  EXPECT_EQ(s->done, 1u);
  EXPECT_EQ(Out("a.csv"), "A.CSV\n");
  // Another model: refused without --overwrite, redone with it.
  c_.model_sha256 = "model2";
  s = Run(ex);
  EXPECT_EQ(s->failed, 4u);
  EXPECT_EQ(Out("a.csv"), "A.CSV\n");
  c_.overwrite = true;
  s = Run(ex);
  EXPECT_EQ(s->done, 4u);
  auto m = Manifest::Parse(Out(".a.csv.fbmanifest.json"), "m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->model_sha256, "model2");
}

TEST_F(WorkerTest, CompressedInputsLoseTheirSuffixAndCollisionsFail) {
  std::ofstream(root_ / "in" / "z.csv.gz") << "compressed twin\n";
  std::ofstream(root_ / "in" / "z.csv") << "plain\n";
  std::ofstream(root_ / "in" / "_SUCCESS") << "";
  std::ofstream(root_ / "in" / ".z.csv.crc") << "junk";
  FaultyExecutor ex;
  Recorder r;
  auto s = Run(ex, &r);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // z.csv (first in byte order) owns out/z.csv; z.csv.gz would write it too.
  EXPECT_EQ(s->failed, 1u);
  EXPECT_EQ(Out("z.csv"), "PLAIN\n");
  EXPECT_FALSE(fs::exists(root_ / "out" / "z.csv.gz"));
  EXPECT_EQ(ex.calls.count("_SUCCESS"), 0u);
  EXPECT_EQ(ex.calls.count(".z.csv.crc"), 0u);
}

TEST_F(WorkerTest, StopBeforeStartingDoesNothing) {
  FaultyExecutor ex;
  stop_ = true;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->done, 0u);
  EXPECT_TRUE(ex.calls.empty());
}

TEST_F(WorkerTest, StopDuringAFileAbandonsItWithoutATrace) {
  FaultyExecutor ex;
  ex.cancel_on = "b.csv";
  ex.stop = &stop_;
  Recorder r;
  auto s = Run(ex, &r);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->done, 1u);  // a.csv
  EXPECT_EQ(s->abandoned, 1u);
  EXPECT_EQ(r.Count(FileState::kAbandoned), 1);
  EXPECT_FALSE(fs::exists(root_ / "out" / "b.csv"));
  EXPECT_FALSE(fs::exists(root_ / "out" / "d.csv"));  // never started
}

// A storage whose listing holds hostile relative paths (as an S3 listing may).
class HostileStorage final : public Storage {
 public:
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    ObjectInfo a;
    a.uri = prefix + "/x";
    a.relative = "../escape.csv";
    ObjectInfo b = a;
    b.relative = "/etc/passwd";
    return std::vector<ObjectInfo>{a, b};
  }
  Result<std::optional<ObjectInfo>> Stat(const std::string& uri) override {
    return LocalStorage()->Stat(uri);
  }
  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override {
    return LocalStorage()->OpenRead(uri);
  }
  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) override {
    return LocalStorage()->OpenWrite(uri);
  }
  Status Delete(const std::string& uri) override { return LocalStorage()->Delete(uri); }
};

TEST_F(WorkerTest, PathsThatWouldEscapeTheOutputFail) {
  FaultyExecutor ex;
  HostileStorage hostile;
  Recorder r;
  auto s = RunWorker(c_, hostile, *LocalStorage(), ex, stop_, &r, nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->failed, 2u);
  EXPECT_TRUE(ex.calls.empty());
  EXPECT_FALSE(fs::exists(root_ / "escape.csv"));
}

// Thread-safe: upper-cases the input; counts runs per file; a chosen file
// can block until cancelled (an owner that stops renewing mid-file).
class SharedExecutor final : public FileExecutor {
 public:
  std::string block_on;              // this file blocks until cancelled...
  std::atomic<bool> blocked{false};  // ...and says so here
  std::mutex mu;
  std::map<std::string, int> calls;

  Result<FileStats> Run(const std::string& input, const std::string& output,
                        const std::atomic<bool>* cancel) override {
    const std::string name = fs::path(input).filename().string();
    bool block = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      block = ++calls[name] == 1 && name == block_on;
    }
    if (block) {
      blocked.store(true);
      for (int i = 0; i < 2000 && !cancel->load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (!cancel->load()) return Internal("never cancelled").At(input);
      return Cancelled("cancelled").At(input);
    }
    FB_ASSIGN_OR_RETURN(std::string text, LocalStorage()->ReadAll(input));
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    FB_RETURN_IF_ERROR(LocalStorage()->WriteAll(output, text));
    FileStats st;
    st.rows = 1;
    st.output_bytes = text.size();
    st.output_sha256 = Sha256Hex(text);
    return st;
  }
};

TEST_F(WorkerTest, DynamicTasksShareTheFilesAndMakeEachOutputOnce) {
  for (int i = 0; i < 40; ++i) std::ofstream(root_ / "in" / ("m" + std::to_string(i) + ".csv")) << i << "\n";
  c_.schedule = Schedule::kDynamic;
  c_.claims_root = (root_ / "claims").string();
  c_.count = 4;
  SharedExecutor ex;
  std::vector<Result<WorkerSummary>> sums(4, Internal("not run"));
  std::vector<std::thread> tasks;
  for (int t = 0; t < 4; ++t) {
    tasks.emplace_back([&, t] {
      WorkerConfig c = c_;
      c.index = t;
      sums[t] = RunWorker(c, *LocalStorage(), *LocalStorage(), ex, stop_, nullptr,
                          [](double, const std::atomic<bool>&) { std::this_thread::yield(); });
    });
  }
  for (auto& t : tasks) t.join();
  size_t done = 0;
  for (auto& s : sums) {
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->total_files, 44u);
    EXPECT_EQ(s->failed + s->abandoned + s->lost + s->takeovers, 0u);
    done += s->done;
  }
  EXPECT_EQ(done, 44u);
  for (auto& [name, n] : ex.calls) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(ex.calls.size(), 44u);
  // The manifests and the claims say which task made each output.
  auto m = Manifest::Parse(Out(".m7.csv.fbmanifest.json"), "m7");
  ASSERT_TRUE(m.ok());
  EXPECT_GE(m->task, 0);
  EXPECT_FALSE(m->host.empty());
  ClaimBook book(*LocalStorage(), c_.claims_root, {});
  auto claims = book.ReadAll();
  ASSERT_TRUE(claims.ok());
  ASSERT_EQ(claims->size(), 44u);
  EXPECT_EQ(claims->at("m7.csv").state, ClaimState::kDone);
  EXPECT_EQ(claims->at("m7.csv").task, m->task);

  // A rerun under new claims skips every output by its manifest.
  c_.claims_root = (root_ / "claims2").string();
  c_.index = 0;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->skipped, 44u);
  for (auto& [name, n] : ex.calls) EXPECT_EQ(n, 1) << name;
}

TEST_F(WorkerTest, DynamicTaskTakesOverAFileWhoseOwnerStoppedRenewing) {
  c_.schedule = Schedule::kDynamic;
  c_.claims_root = (root_ / "claims").string();
  c_.count = 2;
  c_.lease_seconds = 0.3;
  // Task 0's renewals fail (a paused or cut-off node): its claim on a.csv,
  // the first file, goes stale while it works on it.
  FaultInjectingStorage silent(LocalStorage());
  FaultRule no_renewal;
  no_renewal.op = StorageOp::kOpenWrite;
  no_renewal.uri_contains = ".claim";
  silent.AddRule(no_renewal);
  SharedExecutor ex;
  ex.block_on = "a.csv";
  Result<WorkerSummary> s0 = Internal("not run"), s1 = Internal("not run");
  Recorder r0;
  std::thread t0([&] {
    WorkerConfig c = c_;
    c.index = 0;
    c.claims_storage = &silent;
    s0 = RunWorker(c, *LocalStorage(), *LocalStorage(), ex, stop_, &r0, nullptr);
  });
  while (!ex.blocked.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  WorkerConfig c1 = c_;
  c1.index = 1;
  s1 = RunWorker(c1, *LocalStorage(), *LocalStorage(), ex, stop_, nullptr, nullptr);
  t0.join();
  ASSERT_TRUE(s0.ok()) << s0.status().ToString();
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_EQ(s0->lost, 1u);
  EXPECT_EQ(s0->done, 0u);
  EXPECT_EQ(s1->takeovers, 1u);
  EXPECT_EQ(s1->done, 4u);
  EXPECT_FALSE(s0->interrupted);
  EXPECT_EQ(ex.calls["a.csv"], 2);
  EXPECT_EQ(Out("a.csv"), "A.CSV\n");
  auto m = Manifest::Parse(Out(".a.csv.fbmanifest.json"), "a");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->task, 1);
  EXPECT_EQ(r0.Count(FileState::kAbandoned), 1);
}

// A task whose open files are all held by others waits 50 ms, then twice as
// long each pass up to lease / 6 (at most 1 s), so it ends soon after the
// job's last file is done; a pass that claims a file starts again at 50 ms.
TEST_F(WorkerTest, DynamicIdleWaitsStartShortAndDouble) {
  c_.schedule = Schedule::kDynamic;
  c_.claims_root = (root_ / "claims").string();
  c_.count = 2;
  c_.grace_seconds = 0.1;  // task 0's blocked file is cancelled soon after the stop
  SharedExecutor ex;
  ex.block_on = "a.csv";
  Result<WorkerSummary> s0 = Internal("not run"), s1 = Internal("not run");
  std::thread t0([&] {
    WorkerConfig c = c_;
    c.index = 0;
    s0 = RunWorker(c, *LocalStorage(), *LocalStorage(), ex, stop_, nullptr,
                   [](double, const std::atomic<bool>&) { std::this_thread::yield(); });
  });
  while (!ex.blocked.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<double> waits;
  WorkerConfig c1 = c_;
  c1.index = 1;
  s1 = RunWorker(c1, *LocalStorage(), *LocalStorage(), ex, stop_, nullptr,
                 [&](double seconds, const std::atomic<bool>&) {
                   waits.push_back(seconds);
                   if (waits.size() == 8) stop_.store(true);  // task 0 still holds a.csv
                 });
  t0.join();
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_EQ(s1->done, 3u);
  EXPECT_EQ(waits, (std::vector<double>{0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0}));
  // A shorter --poll caps the waits, and is also where they start.
  stop_.store(false);
  c1.poll_seconds = 0.02;
  c1.claims_root = (root_ / "claims-2").string();
  waits.clear();
  ClaimBook other(*LocalStorage(), c1.claims_root, {});
  ASSERT_TRUE(other.TryClaim("a.csv").ok());  // held by a live owner for the rest of the test
  s1 = RunWorker(c1, *LocalStorage(), *LocalStorage(), ex, stop_, nullptr,
                 [&](double seconds, const std::atomic<bool>&) {
                   waits.push_back(seconds);
                   if (waits.size() == 3) stop_.store(true);
                 });
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_EQ(waits, (std::vector<double>{0.02, 0.02, 0.02}));
}

TEST_F(WorkerTest, DynamicRefusesAStoreWithoutConditionalWrites) {
  MemoryStorage mem;
  mem.set_conditional_writes(false);
  c_.schedule = Schedule::kDynamic;
  c_.claims_root = "s3://bucket/out/.forestbatch-claims/run";
  c_.claims_storage = &mem;
  SharedExecutor ex;
  auto s = Run(ex);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(ex.calls.empty());
}

TEST_F(WorkerTest, DynamicFailureIsFinalForTheRunAndStopGivesFilesBack) {
  c_.schedule = Schedule::kDynamic;
  c_.claims_root = (root_ / "claims").string();
  FaultyExecutor ex;
  ex.always_fail.insert("b.csv");
  c_.retries = 1;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->done, 3u);
  EXPECT_EQ(s->failed, 1u);
  ClaimBook book(*LocalStorage(), c_.claims_root, {});
  EXPECT_EQ(book.ReadAll()->at("b.csv").state, ClaimState::kFailed);
  // Another task of the same run does not retry it.
  c_.index = 1;
  c_.count = 2;
  s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->shard_files, 0u);
  EXPECT_EQ(ex.calls["b.csv"], 2);

  // A stopped task gives its current file back at once.
  c_.claims_root = (root_ / "claims3").string();
  fs::remove_all(root_ / "out");
  FaultyExecutor stopping;
  stopping.cancel_on = "a.csv";
  stopping.stop = &stop_;
  s = Run(stopping);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  ClaimBook b3(*LocalStorage(), c_.claims_root, {});
  EXPECT_EQ(b3.ReadAll()->count("a.csv"), 0u);
}

TEST_F(WorkerTest, RemovesStaleTemporariesOfItsOwnOutputsOnly) {
  fs::create_directories(root_ / "out" / "sub");
  // pid 0x3ffffe is above Linux's default pid_max range in practice: a dead writer.
  for (const char* p : {"sub/.c.csv.fbtmp.4194302.1", "..a.csv.fbmanifest.json.fbtmp.4194302.2",
                        ".other.csv.fbtmp.4194302.3"}) {
    std::ofstream(root_ / "out" / p) << "junk";
  }
  std::ofstream(root_ / "out" / (".b.csv.fbtmp." + std::to_string(::getppid()) + ".4")) << "live writer";
  FaultyExecutor ex;
  auto s = Run(ex);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->temporaries_removed, 2u);
  EXPECT_TRUE(fs::exists(root_ / "out" / ".other.csv.fbtmp.4194302.3"));
  EXPECT_TRUE(fs::exists(root_ / "out" / (".b.csv.fbtmp." + std::to_string(::getppid()) + ".4")));
}

// A target whose name is too long to keep whole in its temporary
// (TemporaryPrefixFor shortens it) is still matched, and only it.
TEST_F(WorkerTest, RemovesStaleTemporariesOfLongNames) {
  const fs::path dir = root_ / "long";
  fs::create_directories(dir / "sub");
  const std::string mine = std::string(242, 'm') + ".csv", other = std::string(242, 'o') + ".csv";
  const std::string dead = "4194302.1";
  std::ofstream(dir / "sub" / (TemporaryPrefixFor(mine) + dead)) << "junk";
  std::ofstream(dir / "sub" / (TemporaryPrefixFor(other) + dead)) << "junk";
  EXPECT_EQ(RemoveStaleTemporaries(dir.string(), {"sub/" + mine}), 1u);
  EXPECT_FALSE(fs::exists(dir / "sub" / (TemporaryPrefixFor(mine) + dead)));
  EXPECT_TRUE(fs::exists(dir / "sub" / (TemporaryPrefixFor(other) + dead)));
}

TEST(CommandExecutor, SplitsLikeAShellWithoutOne) {
  auto a = SplitCommand(R"(python3 'my script.py' "{input}" x\ y {output})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"python3", "my script.py", "{input}", "x y", "{output}"}));
  EXPECT_FALSE(SplitCommand("a 'b").ok());
  EXPECT_FALSE(SplitCommand("   ").ok());
  EXPECT_FALSE(MakeCommandExecutor("cp {input}", false).ok());  // no {output}
}

TEST(CommandExecutor, RunsAndRenamesOrLeavesNothing) {
  fs::path root = fs::path(testing::TempDir()) / ("fb_exec_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  std::ofstream(root / "in.txt") << "a\nb\n";
  auto ok = MakeCommandExecutor("cp {input} {output}", false);
  ASSERT_TRUE(ok.ok());
  auto st = (*ok)->Run((root / "in.txt").string(), (root / "o" / "out.txt").string(), nullptr);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->rows, 2u);
  EXPECT_EQ(st->output_sha256, Sha256Hex("a\nb\n"));
  EXPECT_EQ(*ReadFile((root / "o" / "out.txt").string()), "a\nb\n");

  auto bad = MakeCommandExecutor("echo partial > {output}; exit 3", true);
  ASSERT_TRUE(bad.ok());
  st = (*bad)->Run((root / "in.txt").string(), (root / "o" / "bad.txt").string(), nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("status 3"), std::string::npos);
  int entries = 0;
  for (auto& e : fs::directory_iterator(root / "o")) entries += e.path().filename() != "out.txt";
  EXPECT_EQ(entries, 0);  // no output, no temporary

  std::atomic<bool> cancel{true};
  auto slow = MakeCommandExecutor("sleep 5; cp {input} {output}", true);
  st = (*slow)->Run((root / "in.txt").string(), (root / "o" / "slow.txt").string(), &cancel);
  EXPECT_EQ(st.status().code(), StatusCode::kCancelled);
  EXPECT_FALSE(fs::exists(root / "o" / "slow.txt"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace fb
