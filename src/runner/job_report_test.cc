#include "runner/job_report.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runner/job_estimate.h"
#include "runner/local_job.h"

namespace fb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr double kT0 = 1'800'000'000;  // a fixed "now" for the pure functions

JobRecord Job(JobState state, double seconds = 0) {
  JobRecord j;
  j.id = "j";
  j.state = state;
  j.seconds = seconds;
  j.created_at = "2027-01-15T07:00:00Z";  // kT0 - 3600 s
  return j;
}

RunRecord MakeRun(int64_t n, double start, double seconds, bool finished) {
  RunRecord r;
  r.run = n;
  r.started_unix = start;
  r.seconds = finished ? seconds : 0;
  r.finished_unix = finished ? start + seconds : 0;
  r.state = finished ? JobState::kInterrupted : JobState::kRunning;
  return r;
}

TEST(JobTimes, WithoutRunsFromTheRecord) {
  ASSERT_DOUBLE_EQ(ParseUtcSeconds("2027-01-15T07:00:00Z"), kT0 - 3600);
  // Finished: the record's time, not "0.0 s" and not since creation.
  EXPECT_DOUBLE_EQ(JobTimesOf(Job(JobState::kSucceeded, 12.5), {}, JobState::kSucceeded, 0, kT0).seconds,
                   12.5);
  // Running: since it was created.
  EXPECT_DOUBLE_EQ(JobTimesOf(Job(JobState::kRunning), {}, JobState::kRunning, 0, kT0).seconds, 3600);
  // Dead: until its last sign of life, never until now.
  auto dead = JobTimesOf(Job(JobState::kRunning), {}, JobState::kDead, kT0 - 3000, kT0);
  EXPECT_DOUBLE_EQ(dead.seconds, 600);
  EXPECT_TRUE(dead.until_last_activity);
}

TEST(JobTimes, EveryRunCountsAndTheLatestSeparately) {
  const std::vector<RunRecord> two = {MakeRun(1, kT0 - 1000, 100, true), MakeRun(2, kT0 - 50, 40, true)};
  auto t = JobTimesOf(Job(JobState::kSucceeded, 140), two, JobState::kSucceeded, kT0 - 10, kT0);
  EXPECT_EQ(t.runs, 2);
  EXPECT_DOUBLE_EQ(t.before_seconds, 100);
  EXPECT_DOUBLE_EQ(t.this_run_seconds, 40);
  EXPECT_DOUBLE_EQ(t.seconds, 140);
  EXPECT_FALSE(t.until_last_activity);
  // A resumed job running now: the earlier run plus this one so far.
  const std::vector<RunRecord> live = {MakeRun(1, kT0 - 1000, 100, true), MakeRun(2, kT0 - 30, 0, false)};
  t = JobTimesOf(Job(JobState::kRunning, 100), live, JobState::kRunning, kT0 - 1, kT0);
  EXPECT_DOUBLE_EQ(t.this_run_seconds, 30);
  EXPECT_DOUBLE_EQ(t.seconds, 130);
  // Its supervisor killed 20 s in: counted to the last activity, and it stays so.
  for (double now : {kT0, kT0 + 5000}) {
    t = JobTimesOf(Job(JobState::kRunning, 100), live, JobState::kDead, kT0 - 10, now);
    EXPECT_DOUBLE_EQ(t.seconds, 120);
    EXPECT_TRUE(t.until_last_activity);
  }
}

TEST(Progress, RatesCountThisRunAndTheEtaNeverGrowsWhileAFileIsInFlight) {
  ProgressSample s;
  s.total = 20;
  s.before.done = 10;  // a resume: 10 files (1,000 rows) made by an earlier run
  s.before.rows = 1000;
  s.now = s.before;
  s.elapsed = 5;
  auto p = ComputeProgress(s);
  EXPECT_DOUBLE_EQ(p.rows_per_second, 0);  // not 1,000 rows in 5 s
  EXPECT_DOUBLE_EQ(p.files_per_minute, 0);
  EXPECT_FALSE(p.eta_seconds);  // no pace yet
  s.now.done = 12;
  s.now.rows = 1200;
  s.elapsed = 10;
  s.last_completion = 10;
  p = ComputeProgress(s);
  EXPECT_DOUBLE_EQ(p.rows_per_second, 20);
  EXPECT_DOUBLE_EQ(p.files_per_minute, 12);
  EXPECT_EQ(p.finished, 12);
  ASSERT_TRUE(p.eta_seconds);
  EXPECT_DOUBLE_EQ(*p.eta_seconds, 40);  // 8 files left at 5 s a file
  double last = *p.eta_seconds;
  for (double el : {11.0, 14.0, 30.0, 60.0}) {  // a slow file in flight
    s.elapsed = el;
    p = ComputeProgress(s);
    ASSERT_TRUE(p.eta_seconds);
    EXPECT_LE(*p.eta_seconds, last) << el;
    EXPECT_GE(*p.eta_seconds, 0) << el;
    last = *p.eta_seconds;
  }
  // Failed files are progress for the ETA's count of what is left, not files made.
  s.now.failed = 8;
  p = ComputeProgress(s);
  EXPECT_FALSE(p.eta_seconds);  // nothing left
}

JobOutcome Outcome() {
  JobOutcome o;
  o.job = "j";
  o.workers = 2;
  o.input_files = 20;
  o.files_per_worker = 10;
  return o;
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i < line.size()) {
    size_t j = line.find('|', i);
    if (j == std::string::npos) break;
    std::string c = line.substr(i, j - i);
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
    out.push_back(c);
    i = j + 1;
  }
  return out;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Column `name` of row `row` (0: the header) of a summary table.
std::string Column(const std::string& table, const std::string& name, size_t row) {
  auto lines = Lines(table);
  auto head = Cells(lines[0]);
  auto r = Cells(lines[row + 1]);
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == name) return r.at(i);
  }
  return "(no column " + name + ")";
}

TEST(SummaryTable, FilesPerMinuteCountsFilesMadeNow) {
  // Interrupted after 5 of 20 files in 60 s: 5 a minute, not 20.
  JobOutcome o = Outcome();
  o.seconds = 60;
  o.done_this_run = 5;
  o.counts.done = 5;
  o.counts.rows = o.rows_this_run = 500;
  auto t = SummaryTable(o);
  EXPECT_EQ(Column(t, "files per minute", 1), "5") << t;
  EXPECT_EQ(Column(t, "files made", 1), "5") << t;
  EXPECT_EQ(Lines(t).size(), 3u);  // one run, one row
  // Every file failed, fast: none made, 0 a minute (not 1,891).
  o = Outcome();
  o.seconds = 0.63;
  o.counts.failed = 20;
  t = SummaryTable(o);
  EXPECT_EQ(Column(t, "files per minute", 1), "0") << t;
  EXPECT_EQ(Column(t, "failed files", 1), "20") << t;
}

TEST(SummaryTable, AResumedJobShowsTheWholeJobAndThisRun) {
  JobOutcome o = Outcome();
  o.runs = 2;
  o.seconds_before = 60;  // the first run: 12 files, 1,200 rows in a minute
  o.seconds = 30;         // this one: the other 8, 800 rows
  o.counts.done = 20;
  o.counts.rows = 2000;
  o.done_this_run = 8;
  o.rows_this_run = 800;
  o.vcpu_seconds = 90;
  o.vcpu_seconds_before = 60;
  auto t = SummaryTable(o, 3.6);
  ASSERT_EQ(Lines(t).size(), 4u) << t;
  EXPECT_EQ(Column(t, "runs", 1), "all 2") << t;
  EXPECT_EQ(Column(t, "total time", 1), "1m 30.0s") << t;
  EXPECT_EQ(Column(t, "files made", 1), "20") << t;
  EXPECT_EQ(Column(t, "rows", 1), "2000") << t;
  EXPECT_EQ(Column(t, "vCPU-seconds", 1), "90.0") << t;
  EXPECT_EQ(Column(t, "job", 2), "this run") << t;
  EXPECT_EQ(Column(t, "total time", 2), "0m 30.0s") << t;
  EXPECT_EQ(Column(t, "files per minute", 2), "16") << t;
  EXPECT_EQ(Column(t, "rows per second", 2), "27") << t;
  EXPECT_EQ(Column(t, "vCPU-seconds", 2), "30.0") << t;
  EXPECT_EQ(Column(t, "cost", 2), "0.0300") << t;  // 30 vCPU-s at 3.6 an hour
}

TEST(EstimateRecord, RoundTripsAndComparesLikeWithLike) {
  EstimateRecord e;
  e.made_at = "2027-01-15T08:00:00Z";
  e.files = 10;
  e.workers = 2;
  e.vcpus_per_task = 1;
  e.duration_seconds = 50;
  e.vcpu_seconds = 100;
  e.price_per_vcpu_hour = 0.36;
  e.sample = "in/a.csv";
  e.assumptions = {"one", "two"};
  auto back = EstimateRecord::FromJson(e.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), e.ToJson());
  EXPECT_FALSE(EstimateRecord::FromJson("{\"files\": 1}").ok());
  JobActuals a;
  a.duration_seconds = 60;
  a.reserved_vcpu_seconds = 110;
  a.used_vcpu_seconds = 90;
  a.files_finished = 10;
  a.files_total = 10;
  a.finished = true;
  auto c = CompareEstimate(*back, a, std::nullopt);  // the estimate's price
  EXPECT_DOUBLE_EQ(*c.EstimatedCost(), 0.01);
  EXPECT_DOUBLE_EQ(*c.ActualReservedCost(), 0.011);
  EXPECT_DOUBLE_EQ(*c.DurationRatio(), 1.2);
  c = CompareEstimate(*back, a, 3.6);  // a price given now wins, for both
  EXPECT_DOUBLE_EQ(*c.EstimatedCost(), 0.1);
  EXPECT_DOUBLE_EQ(*c.ActualUsedCost(), 0.09);
  auto j = json::parse(EstimateComparisonJson(c));
  EXPECT_EQ(j["estimate"]["duration_seconds"], 50);
  EXPECT_EQ(j["actual"]["duration_seconds"], 60);
  EXPECT_EQ(j["price_per_vcpu_hour"], 3.6);
  auto text = EstimateComparisonText(c);
  EXPECT_NE(text.find("estimate (2027-01-15T08:00:00Z, 2 workers x 1 vCPU, sample in/a.csv): 0m 50.0s"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("actual: 1m 0.0s, 110.0 reserved vCPU-seconds (90.0 used)"), std::string::npos) << text;
}

class JobReportDb : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("fb_job_report_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    state_ = (dir_ / "st").string();
    auto db = JobDb::Open(state_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void AddJob(const std::string& id, JobState state, const JobSpec& spec) {
    JobRecord j;
    j.id = id;
    j.name = "n";
    j.state = state;
    j.spec_json = spec.ToJson();
    j.files_total = 2;
    ASSERT_TRUE(db_->CreateJob(j).ok());
    ASSERT_TRUE(db_->AddPendingFiles(id, {"a.csv", "b.csv"}, {0, 1}).ok());
  }
  fs::path dir_;
  std::string state_;
  std::unique_ptr<JobDb> db_;
};

TEST_F(JobReportDb, StatusSaysWhatTheJobReadsWritesAndHowLongItRan) {
  JobSpec spec;
  spec.model = "/models/m.joblib";
  spec.input = "s3://bucket/in/";
  spec.output = "/data/out";
  spec.workers = 2;
  spec.worker_args = {"--proba", "--api-token", "s3cr3tvalue"};
  AddJob("j", JobState::kSucceeded, spec);
  const double t0 = ParseUtcSeconds((*db_->GetJob("j"))->created_at);
  ASSERT_TRUE(db_->UpdateJob("j", JobState::kSucceeded, 0, 42.0).ok());
  auto text = JobStatusText(*db_, "j", state_, std::nullopt, t0 + 1000);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("job j (n): succeeded, exit code 0, 0m 42.0s, created"), std::string::npos) << *text;
  EXPECT_NE(text->find("\nmodel: /models/m.joblib\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("\ninput: s3://bucket/in/\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("\noutput: /data/out\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("\noptions: workers 2, threads cores / workers, schedule static, shard by count"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("predict options: --proba --api-token [hidden]"), std::string::npos) << *text;
  EXPECT_EQ(text->find("s3cr3tvalue"), std::string::npos) << *text;
  EXPECT_NE(text->find("estimate: none: the job was started without --estimate"), std::string::npos) << *text;
  // `jobs --json` says the same, secrets hidden too.
  auto list = JobListJson(*db_, state_, t0 + 1000);
  ASSERT_TRUE(list.ok());
  auto j = json::parse(*list);
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_EQ(j["jobs"][0]["job"], "j");
  EXPECT_EQ(j["jobs"][0]["state"], "succeeded");
  EXPECT_EQ(j["jobs"][0]["seconds"], 42.0);
  EXPECT_EQ(j["jobs"][0]["model"], "/models/m.joblib");
  EXPECT_EQ(j["jobs"][0]["files"]["total"], 2);
  EXPECT_EQ(j["jobs"][0]["files"]["pending"], 2);
  EXPECT_EQ(list->find("s3cr3tvalue"), std::string::npos);
}

TEST_F(JobReportDb, ARunningOrDeadJobShowsElapsedTimeNotExitCodeMinusOne) {
  AddJob("r", JobState::kRunning, JobSpec());
  const double t0 = ParseUtcSeconds((*db_->GetJob("r"))->created_at);
  ASSERT_TRUE(db_->StartRun("r", t0).ok());
  FileRecord f;
  f.relative = "a.csv";
  f.state = FileState::kDone;
  f.updated_unix = t0 + 25;
  ASSERT_TRUE(db_->RecordFile("r", f).ok());
  // No lease: its supervisor is gone, so it is dead, and its time stops at its last record.
  auto text = JobStatusText(*db_, "r", state_, std::nullopt, t0 + 500);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("job r (n): dead, 0m 25.0s until its last recorded activity"), std::string::npos)
      << *text;
  EXPECT_EQ(text->find("exit code -1"), std::string::npos) << *text;
  EXPECT_NE(text->find("forestbatch resume r --state " + state_), std::string::npos) << *text;
  auto js = JobStatusJson(*db_, "r", state_);
  ASSERT_TRUE(js.ok());
  auto j = json::parse(*js);
  EXPECT_EQ(j["state"], "dead");
  EXPECT_EQ(j["seconds"], 25.0);
  EXPECT_EQ(j["seconds_until_last_activity"], true);
  EXPECT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["state"], "dead");
  // A resume closes the dead run at its last activity: the next run adds to 25 s.
  ASSERT_TRUE(db_->CloseUnfinishedRuns("r", t0 + 25).ok());
  auto runs = db_->Runs("r");
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].state, JobState::kDead);
  EXPECT_DOUBLE_EQ((*runs)[0].seconds, 25);
  ASSERT_EQ(*db_->StartRun("r", t0 + 100), 2);
}

TEST_F(JobReportDb, AnEstimateIsKeptAndComparedWithTheActual) {
  AddJob("e", JobState::kSucceeded, JobSpec());
  EstimateRecord e;
  e.made_at = "2027-01-15T08:00:00Z";
  e.files = 2;
  e.workers = 2;
  e.vcpus_per_task = 1;
  e.duration_seconds = 10;
  e.vcpu_seconds = 20;
  e.sample = "a.csv";
  ASSERT_TRUE(db_->SetEstimate("e", e.ToJson()).ok());
  const double t0 = ParseUtcSeconds((*db_->GetJob("e"))->created_at);
  ASSERT_EQ(*db_->StartRun("e", t0), 1);
  RunRecord r;
  r.run = 1;
  r.started_unix = t0;
  r.finished_unix = t0 + 12;
  r.seconds = 12;
  r.state = JobState::kSucceeded;
  ASSERT_TRUE(db_->FinishRun("e", r).ok());
  // Two workers at 1 vCPU for the job's 12 s: 24 reserved vCPU-seconds; 10 used.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        db_->AddAttempt("e", i, 1, 100 + i, 0, 0, "2027-01-15T08:00:00Z", "2027-01-15T08:00:11Z").ok());
    ASSERT_TRUE(db_->SetAttemptUsage("e", i, 1, 4.0, 1.0).ok());
  }
  ASSERT_TRUE(db_->UpdateJob("e", JobState::kSucceeded, 0, 12).ok());
  auto j = json::parse(*JobStatusJson(*db_, "e", state_, 0.36));
  ASSERT_TRUE(j["estimate"].is_object()) << j.dump();
  EXPECT_EQ(j["estimate"]["estimate"]["duration_seconds"], 10.0);
  EXPECT_EQ(j["estimate"]["actual"]["duration_seconds"], 12.0);
  EXPECT_EQ(j["estimate"]["actual"]["reserved_vcpu_seconds"], 24.0);
  EXPECT_EQ(j["estimate"]["actual"]["used_vcpu_seconds"], 10.0);
  EXPECT_DOUBLE_EQ(j["estimate"]["cost"]["estimated"].get<double>(), 0.002);
  EXPECT_DOUBLE_EQ(j["estimate"]["cost"]["actual_reserved"].get<double>(), 0.0024);
  auto text = JobStatusText(*db_, "e", state_, std::nullopt, t0 + 100);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("estimate (2027-01-15T08:00:00Z, 2 workers x 1 vCPU, sample a.csv): 0m 10.0s"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("actual: 0m 12.0s, 24.0 reserved vCPU-seconds (10.0 used); 1.20x the estimated time"),
            std::string::npos)
      << *text;
}

// A database made before runs and estimates were recorded opens, read-only
// too (a dashboard adds no tables): no runs, no estimate, times from the record.
TEST(JobReportOldDb, ADatabaseWithoutRunsOrEstimatesStillReads) {
  fs::path dir = fs::path(testing::TempDir()) / ("fb_job_report_old_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "jobs.db").string().c_str(), &raw), SQLITE_OK);
  const char* before_runs =
      "CREATE TABLE jobs(id TEXT PRIMARY KEY, name TEXT, state TEXT, created_at TEXT, updated_at TEXT,"
      " spec TEXT, host TEXT, supervisor_pid INTEGER DEFAULT 0, exit_code INTEGER DEFAULT -1,"
      " files_total INTEGER DEFAULT 0, seconds REAL DEFAULT 0);"
      "CREATE TABLE tasks(job TEXT, idx INTEGER, state TEXT, attempts INTEGER, pid INTEGER, exit_code "
      "INTEGER,"
      " signal INTEGER, files INTEGER, started_at TEXT, finished_at TEXT, log TEXT, PRIMARY KEY(job, idx));"
      "CREATE TABLE attempts(job TEXT, idx INTEGER, attempt INTEGER, pid INTEGER, exit_code INTEGER,"
      " signal INTEGER, started_at TEXT, finished_at TEXT, user_seconds REAL DEFAULT 0,"
      " sys_seconds REAL DEFAULT 0, PRIMARY KEY(job, idx, attempt));"
      "CREATE TABLE files(job TEXT, relative TEXT, task INTEGER, state TEXT, rows INTEGER DEFAULT 0,"
      " attempts INTEGER DEFAULT 0, error TEXT DEFAULT '', seconds REAL DEFAULT 0, output TEXT DEFAULT '',"
      " sha256 TEXT DEFAULT '', updated_at TEXT, updated_unix REAL DEFAULT 0, PRIMARY KEY(job, relative));"
      "INSERT INTO jobs(id, name, state, created_at, spec, exit_code, files_total, seconds)"
      " VALUES('old', 'o', 'succeeded', '2027-01-15T08:00:00Z', '{}', 0, 1, 7.5);";
  ASSERT_EQ(sqlite3_exec(raw, before_runs, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  {
    auto ro = JobDb::OpenReadOnly(dir.string());
    ASSERT_TRUE(ro.ok());
    EXPECT_TRUE((*ro)->Runs("old")->empty());
    EXPECT_FALSE((*ro)->EstimateJson("old")->has_value());
    auto text = JobStatusText(**ro, "old", dir.string(), std::nullopt, kT0);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_NE(text->find("succeeded, exit code 0, 0m 7.5s"), std::string::npos) << *text;
    EXPECT_NE(text->find("estimate: none"), std::string::npos) << *text;
  }
  auto rw = JobDb::Open(dir.string());  // gains the tables
  ASSERT_TRUE(rw.ok());
  ASSERT_EQ(*(*rw)->StartRun("old", kT0), 1);
  ASSERT_TRUE((*rw)->SetEstimate("old", "{}").ok());
  EXPECT_TRUE((*rw)->EstimateJson("old")->has_value());
  fs::remove_all(dir);
}

TEST(JobSpec, AnchoredPathsAreAbsoluteAndS3UrisUntouched) {
  JobSpec s;
  s.model = "m.joblib";
  s.input = "./in/";
  s.output = "s3://bucket/out/";
  const JobSpec a = s.Anchored();
  const std::string cwd = fs::current_path().string();
  EXPECT_EQ(a.model, cwd + "/m.joblib");
  EXPECT_EQ(a.input, cwd + "/in/");
  EXPECT_EQ(a.output, "s3://bucket/out/");
  EXPECT_EQ(a.workdir, cwd);
  auto back = JobSpec::FromJson(a.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->workdir, cwd);
  // Records from before `workdir` read as none.
  auto j = json::parse(s.ToJson());
  j.erase("workdir");
  EXPECT_EQ(JobSpec::FromJson(j.dump())->workdir, "");
}

}  // namespace
}  // namespace fb
