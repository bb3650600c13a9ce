#include "runner/job_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/test_dir.h"
#include "runner/local_job.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// Each test with a fresh state folder, dir_.
class JobDbTest : public testing::TestDirTest {};

TEST_F(JobDbTest, RecordsJobsTasksAndFiles) {
  auto db = JobDb::Open(dir_.string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  JobRecord j;
  j.id = "j1";
  j.state = JobState::kRunning;
  j.spec_json = JobSpec().ToJson();
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  EXPECT_FALSE((*db)->CreateJob(j).ok());  // ids are unique
  ASSERT_TRUE((*db)->AddPendingFiles("j1", {"a", "b", "c"}, {0, 0, 1}).ok());
  FileRecord f;
  f.relative = "a";
  f.state = FileState::kDone;
  f.rows = 10;
  ASSERT_TRUE((*db)->RecordFile("j1", f).ok());
  f.state = FileState::kSkipped;  // a resume skips what it did: stays done
  f.rows = 10;
  ASSERT_TRUE((*db)->RecordFile("j1", f).ok());
  f.relative = "b";
  f.state = FileState::kFailed;
  f.error = "boom";
  ASSERT_TRUE((*db)->RecordFile("j1", f).ok());
  auto c = (*db)->Counts("j1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->failed, 1);
  EXPECT_EQ(c->pending, 1);
  EXPECT_EQ(c->rows, 10u);
  TaskRecord t;
  t.index = 1;
  t.state = TaskState::kRunning;
  ASSERT_TRUE((*db)->UpsertTask("j1", t).ok());
  ASSERT_TRUE((*db)->UpdateJob("j1", JobState::kFailed, 1, 2.5).ok());
  auto js = JobStatusJson(**db, "j1", dir_.string());
  ASSERT_TRUE(js.ok());
  EXPECT_NE(js->find("\"failed_files\""), std::string::npos);
  EXPECT_NE(js->find("boom"), std::string::npos);
  auto spec = JobSpec::FromJson((*(*db)->GetJob("j1"))->spec_json);
  EXPECT_TRUE(spec.ok());
  EXPECT_EQ(JobStatusJson(**db, "nope", dir_.string()).status().code(), StatusCode::kNotFound);
}

TEST_F(JobDbTest, ConcurrentWritersFromSeparateConnections) {
  ASSERT_TRUE(JobDb::Open(dir_.string()).ok());
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto db = JobDb::Open(dir_.string());
      if (!db.ok()) {
        ++errors;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        FileRecord f;
        f.relative = "t" + std::to_string(t) + "_" + std::to_string(i);
        f.state = FileState::kDone;
        f.rows = 1;
        if (!(*db)->RecordFile("j", f).ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto db = JobDb::Open(dir_.string());
  EXPECT_EQ((*db)->Counts("j")->done, 200);
}

TEST_F(JobDbTest, RecordsCpuTimeOfAttempts) {
  auto db = JobDb::Open(dir_.string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->AddAttempt("j", 0, 1, 100, 75, 0, "a", "b").ok());
  ASSERT_TRUE((*db)->AddAttempt("j", 0, 2, 101, 0, 0, "c", "d").ok());
  ASSERT_TRUE((*db)->AddAttempt("j", 1, 1, 102, 0, 0, "e", "f").ok());
  ASSERT_TRUE((*db)->AddAttempt("other", 0, 1, 103, 0, 0, "g", "h").ok());
  ASSERT_TRUE((*db)->SetAttemptUsage("j", 0, 1, 1.5, 0.25).ok());
  ASSERT_TRUE((*db)->SetAttemptUsage("j", 0, 2, 2.0, 0.5).ok());
  ASSERT_TRUE((*db)->SetAttemptUsage("j", 1, 1, 3.0, 0.0).ok());
  ASSERT_TRUE((*db)->SetAttemptUsage("other", 0, 1, 100.0, 0.0).ok());
  EXPECT_DOUBLE_EQ(*(*db)->CpuSeconds("j"), 7.25);
  EXPECT_DOUBLE_EQ(*(*db)->CpuSeconds("none"), 0.0);
  auto a = (*db)->Attempts("j");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[1].attempt, 2);
  EXPECT_DOUBLE_EQ((*a)[1].user_seconds, 2.0);
  EXPECT_DOUBLE_EQ((*a)[1].sys_seconds, 0.5);
  auto st = JobStatusJson(**db, "j", dir_.string(), 0.36);
  EXPECT_FALSE(st.ok());  // no such job record: attempts alone do not make a job
  JobRecord j;
  j.id = "j";
  j.state = JobState::kRunning;
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  st = JobStatusJson(**db, "j", dir_.string(), 0.36);
  ASSERT_TRUE(st.ok());
  auto js = nlohmann::json::parse(*st);
  EXPECT_DOUBLE_EQ(js["cost"]["vcpu_seconds"].get<double>(), 7.25);
  EXPECT_NEAR(js["cost"]["cost"].get<double>(), 7.25 / 3600 * 0.36, 1e-15);
  EXPECT_TRUE(js["cost"]["per_1000_files"].is_null());  // no files made
  EXPECT_TRUE(nlohmann::json::parse(*JobStatusJson(**db, "j", dir_.string()))["cost"]["cost"].is_null());
}

TEST_F(JobDbTest, ReadOnlyConnectionsReadAndNeverWrite) {
  const std::string state = Path("state");  // not there yet
  EXPECT_EQ(JobDb::OpenReadOnly(state).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(state));  // nothing created
  auto db = JobDb::Open(state);
  ASSERT_TRUE(db.ok());
  JobRecord j;
  j.id = "j";
  j.state = JobState::kRunning;
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  auto ro = JobDb::OpenReadOnly(state);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*(*ro)->GetJob("j"))->state, JobState::kRunning);
  EXPECT_FALSE((*ro)->UpdateJob("j", JobState::kFailed, 1, 1.0).ok());
  EXPECT_EQ((*(*db)->GetJob("j"))->state, JobState::kRunning);
}

TEST_F(JobDbTest, OpensADatabaseOfTheFirstSchemaAndAddsTheNewColumns) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "jobs.db").string().c_str(), &raw), SQLITE_OK);
  // The tables as the first release made them.
  const char* old_schema =
      "CREATE TABLE attempts(job TEXT, idx INTEGER, attempt INTEGER, pid INTEGER, exit_code INTEGER,"
      " signal INTEGER, started_at TEXT, finished_at TEXT, PRIMARY KEY(job, idx, attempt));"
      "CREATE TABLE files(job TEXT, relative TEXT, task INTEGER, state TEXT, rows INTEGER DEFAULT 0,"
      " attempts INTEGER DEFAULT 0, error TEXT DEFAULT '', seconds REAL DEFAULT 0, output TEXT DEFAULT '',"
      " sha256 TEXT DEFAULT '', updated_at TEXT, PRIMARY KEY(job, relative));"
      "INSERT INTO attempts VALUES('j', 0, 1, 5, 0, 0, 'a', 'b');"
      "INSERT INTO files(job, relative, task, state, rows) VALUES('j', 'x.csv', 0, 'done', 3);";
  ASSERT_EQ(sqlite3_exec(raw, old_schema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  for (int i = 0; i < 2; ++i) {  // the second open finds the columns there
    auto db = JobDb::Open(dir_.string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_DOUBLE_EQ(*(*db)->CpuSeconds("j"), 0.0);
    ASSERT_TRUE((*db)->SetAttemptUsage("j", 0, 1, 1.0, 1.0).ok());
    EXPECT_DOUBLE_EQ(*(*db)->CpuSeconds("j"), 2.0);
    ASSERT_TRUE((*db)->SetAttemptUsage("j", 0, 1, 0.0, 0.0).ok());
    auto files = (*db)->Files("j");
    ASSERT_TRUE(files.ok());
    ASSERT_EQ(files->size(), 1u);
    EXPECT_EQ((*files)[0].rows, 3u);
  }
}

TEST_F(JobDbTest, AResumeSkippingADoneFileKeepsItsTiming) {
  auto db = JobDb::Open(dir_.string());
  ASSERT_TRUE(db.ok());
  FileRecord f;
  f.relative = "a.csv";
  f.state = FileState::kDone;
  f.rows = 10;
  f.seconds = 2.5;
  f.updated_unix = 1000.0;
  ASSERT_TRUE((*db)->RecordFile("j", f).ok());
  f.state = FileState::kSkipped;
  f.rows = 10;
  f.seconds = 0.001;
  f.updated_unix = 2000.0;
  ASSERT_TRUE((*db)->RecordFile("j", f).ok());
  auto files = (*db)->Files("j");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ((*files)[0].state, FileState::kDone);
  EXPECT_DOUBLE_EQ((*files)[0].seconds, 2.5);
  EXPECT_DOUBLE_EQ((*files)[0].updated_unix, 1000.0);
  f.relative = "b.csv";
  f.updated_unix = 0;  // unset: the time of recording
  ASSERT_TRUE((*db)->RecordFile("j", f).ok());
  files = (*db)->Files("j");
  EXPECT_GT((*files)[1].updated_unix, 1.7e9);
}

// Every field of every record comes back as it was written, in its own column.
TEST_F(JobDbTest, EveryFieldOfEveryRecordRoundTrips) {
  auto db = JobDb::Open(dir_.string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  JobRecord j;
  j.id = "j";
  j.name = "nightly";
  j.state = JobState::kRunning;
  j.spec_json = "{}";
  j.host = "h1";
  j.supervisor_pid = 41;
  j.files_total = 7;
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  ASSERT_TRUE((*db)->UpdateJob("j", JobState::kFailed, 3, 2.5).ok());
  auto got_job = (*db)->GetJob("j");
  ASSERT_TRUE(got_job.ok() && got_job->has_value());
  const JobRecord& gj = **got_job;
  EXPECT_EQ(gj.id, "j");
  EXPECT_EQ(gj.name, "nightly");
  EXPECT_EQ(gj.state, JobState::kFailed);
  EXPECT_FALSE(gj.created_at.empty());
  EXPECT_FALSE(gj.updated_at.empty());
  EXPECT_EQ(gj.spec_json, "{}");
  EXPECT_EQ(gj.host, "h1");
  EXPECT_EQ(gj.supervisor_pid, 41);
  EXPECT_EQ(gj.exit_code, 3);
  EXPECT_EQ(gj.files_total, 7);
  EXPECT_DOUBLE_EQ(gj.seconds, 2.5);
  ASSERT_EQ((*db)->ListJobs()->size(), 1u);
  EXPECT_EQ((*db)->ListJobs()->front().name, "nightly");

  TaskRecord t{5, TaskState::kSucceeded, 2, 1234, 0, 9, 11, "s", "f", "log/5.txt"};
  ASSERT_TRUE((*db)->UpsertTask("j", t).ok());
  t.state = TaskState::kFailed;  // replaced, not added
  ASSERT_TRUE((*db)->UpsertTask("j", t).ok());
  auto tasks = (*db)->Tasks("j");
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  const TaskRecord& gt = tasks->front();
  EXPECT_EQ(gt.index, 5);
  EXPECT_EQ(gt.state, TaskState::kFailed);
  EXPECT_EQ(gt.attempts, 2);
  EXPECT_EQ(gt.pid, 1234);
  EXPECT_EQ(gt.exit_code, 0);
  EXPECT_EQ(gt.signal, 9);
  EXPECT_EQ(gt.files, 11);
  EXPECT_EQ(gt.started_at, "s");
  EXPECT_EQ(gt.finished_at, "f");
  EXPECT_EQ(gt.log, "log/5.txt");

  ASSERT_TRUE((*db)->AddAttempt("j", 5, 2, 77, 4, 15, "a0", "a1").ok());
  ASSERT_TRUE((*db)->SetAttemptUsage("j", 5, 2, 1.25, 0.5).ok());
  auto attempts = (*db)->Attempts("j");
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  const AttemptRecord& ga = attempts->front();
  EXPECT_EQ(ga.index, 5);
  EXPECT_EQ(ga.attempt, 2);
  EXPECT_EQ(ga.pid, 77);
  EXPECT_EQ(ga.exit_code, 4);
  EXPECT_EQ(ga.signal, 15);
  EXPECT_EQ(ga.started_at, "a0");
  EXPECT_EQ(ga.finished_at, "a1");
  EXPECT_DOUBLE_EQ(ga.user_seconds, 1.25);
  EXPECT_DOUBLE_EQ(ga.sys_seconds, 0.5);

  FileRecord f{"in/a.csv", FileState::kDone, "", "out/a.csv", "abc", 5, 3, 1000, 0.75, 1700000000.5};
  ASSERT_TRUE((*db)->RecordFile("j", f).ok());
  auto files = (*db)->Files("j");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  const FileRecord& gf = files->front();
  EXPECT_EQ(gf.relative, "in/a.csv");
  EXPECT_EQ(gf.state, FileState::kDone);
  EXPECT_EQ(gf.error, "");
  EXPECT_EQ(gf.output, "out/a.csv");
  EXPECT_EQ(gf.sha256, "abc");
  EXPECT_EQ(gf.task, 5);
  EXPECT_EQ(gf.attempts, 3);
  EXPECT_EQ(gf.rows, 1000u);
  EXPECT_DOUBLE_EQ(gf.seconds, 0.75);
  EXPECT_DOUBLE_EQ(gf.updated_unix, 1700000000.5);

  auto run = (*db)->StartRun("j", 100.5);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(*run, 1);
  RunRecord r{*run, 0, 130.0, 29.5, JobState::kSucceeded, 6, 1, 900};
  ASSERT_TRUE((*db)->FinishRun("j", r).ok());
  auto runs = (*db)->Runs("j");
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  const RunRecord& gr = runs->front();
  EXPECT_EQ(gr.run, 1);
  EXPECT_DOUBLE_EQ(gr.started_unix, 100.5);
  EXPECT_DOUBLE_EQ(gr.finished_unix, 130.0);
  EXPECT_DOUBLE_EQ(gr.seconds, 29.5);
  EXPECT_EQ(gr.state, JobState::kSucceeded);
  EXPECT_EQ(gr.done, 6);
  EXPECT_EQ(gr.failed, 1);
  EXPECT_EQ(gr.rows, 900u);
}

// The text of the first `column` of `sql` run on the database file itself.
std::string RawText(const fs::path& db_file, const std::string& sql) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(db_file.string().c_str(), &raw) != SQLITE_OK) return "(cannot open)";
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(raw, sql.c_str(), -1, &q, nullptr);
  std::string out =
      sqlite3_step(q) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(q, 0)) : "";
  sqlite3_finalize(q);
  sqlite3_close(raw);
  return out;
}

void RawExec(const fs::path& db_file, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.string().c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(raw);
}

// Job, run, task and file states are stored by name, the names status and the
// dashboard show; a name this version does not know is an error naming it,
// not a guess.
TEST_F(JobDbTest, StatesAreStoredByNameAndUnknownNamesAreRefused) {
  const fs::path file = dir_ / "jobs.db";
  auto db = JobDb::Open(dir_.string());
  ASSERT_TRUE(db.ok());
  JobRecord j;
  j.id = "j";
  j.state = JobState::kCancelling;
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  TaskRecord t;
  t.state = TaskState::kInterrupted;
  ASSERT_TRUE((*db)->UpsertTask("j", t).ok());
  FileRecord f;
  f.relative = "a.csv";
  f.state = FileState::kRetrying;
  ASSERT_TRUE((*db)->RecordFile("j", f).ok());
  auto run = (*db)->StartRun("j", 100.0);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(RawText(file, "SELECT state FROM jobs"), "cancelling");
  EXPECT_EQ(RawText(file, "SELECT state FROM tasks"), "interrupted");
  EXPECT_EQ(RawText(file, "SELECT state FROM files"), "retrying");
  EXPECT_EQ(RawText(file, "SELECT state FROM runs"), "running");
  RunRecord r;
  r.run = *run;
  r.state = JobState::kInterrupted;
  ASSERT_TRUE((*db)->FinishRun("j", r).ok());
  EXPECT_EQ(RawText(file, "SELECT state FROM runs"), "interrupted");
  ASSERT_TRUE((*db)->UpdateJob("j", JobState::kCancelled, 75, 1.0).ok());
  EXPECT_EQ(RawText(file, "SELECT state FROM jobs"), "cancelled");
  ASSERT_TRUE((*db)->AddPendingFiles("j", {"b.csv"}, {0}).ok());
  EXPECT_EQ(RawText(file, "SELECT state FROM files WHERE relative='b.csv'"), "pending");
  ASSERT_TRUE((*db)->ResetRunning("j").ok());
  EXPECT_EQ(RawText(file, "SELECT state FROM files WHERE relative='a.csv'"), "pending");

  RawExec(file, "UPDATE tasks SET state='levitating'");
  auto tasks = (*db)->Tasks("j");
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(tasks.status().message().find("job database: unknown task state 'levitating'"), std::string::npos)
      << tasks.status().ToString();
  RawExec(file, "UPDATE jobs SET state='Running'");
  auto job = (*db)->GetJob("j");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("unknown job state 'Running'"), std::string::npos);
  EXPECT_FALSE((*db)->ListJobs().ok());
  RawExec(file, "UPDATE runs SET state='done'");  // a file's state, not a run's
  auto runs = (*db)->Runs("j");
  ASSERT_FALSE(runs.ok());
  EXPECT_NE(runs.status().message().find("unknown job state 'done'"), std::string::npos);
  RawExec(file, "UPDATE files SET state='' WHERE relative='b.csv'");
  auto files = (*db)->Files("j");
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("unknown file state ''"), std::string::npos);
  auto counts = (*db)->Counts("j");
  ASSERT_FALSE(counts.ok());
  EXPECT_NE(counts.status().message().find("unknown file state ''"), std::string::npos);
}

// A database written by an earlier version, with every state name it ever
// wrote (files "abandoned" by a worker that stopped, before they were
// recorded as pending; runs closed "dead"), still loads and counts as before.
TEST_F(JobDbTest, DatabasesWithEveryEarlierStateNameStillLoad) {
  const fs::path file = dir_ / "jobs.db";
  {
    auto db = JobDb::Open(dir_.string());
    ASSERT_TRUE(db.ok());
  }
  const std::vector<std::string> jobs = {"running", "cancelling",  "succeeded",
                                         "failed",  "interrupted", "cancelled"};
  for (const std::string& st : jobs)
    RawExec(file, "INSERT INTO jobs(id, name, state, created_at) VALUES('j-" + st + "', '', '" + st +
                      "', '2026-12-01T00:00:00Z')");
  const std::vector<std::string> file_states = {"pending", "running", "retrying", "abandoned",
                                                "done",    "skipped", "failed"};
  for (const std::string& st : file_states)
    RawExec(file, "INSERT INTO files(job, relative, task, state, rows) VALUES('j-running', '" + st +
                      ".csv', 0, '" + st + "', 10)");
  const std::vector<std::string> task_states = {"pending",   "running", "restarting",
                                                "succeeded", "failed",  "interrupted"};
  for (size_t i = 0; i < task_states.size(); ++i)
    RawExec(file, "INSERT INTO tasks(job, idx, state) VALUES('j-running', " + std::to_string(i) + ", '" +
                      task_states[i] + "')");
  RawExec(file,
          "INSERT INTO runs(job, run, started_unix, finished_unix, state) VALUES"
          "('j-running', 1, 10, 20, 'dead'), ('j-running', 2, 30, 40, 'cancelled')");
  auto db = JobDb::OpenReadOnly(dir_.string());
  ASSERT_TRUE(db.ok());
  auto listed = (*db)->ListJobs();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), jobs.size());
  for (const JobRecord& r : *listed) EXPECT_EQ("j-" + std::string(StateName(r.state)), r.id);
  auto files = (*db)->Files("j-running");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), file_states.size());
  for (const FileRecord& f : *files) EXPECT_EQ(std::string(StateName(f.state)) + ".csv", f.relative);
  auto c = (*db)->Counts("j-running");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pending, 2);  // pending, abandoned
  EXPECT_EQ(c->running, 2);  // running, retrying
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->skipped, 1);
  EXPECT_EQ(c->failed, 1);
  EXPECT_EQ(c->rows, 10u);
  auto tasks = (*db)->Tasks("j-running");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), task_states.size());
  for (size_t i = 0; i < task_states.size(); ++i) EXPECT_EQ(StateName((*tasks)[i].state), task_states[i]);
  auto runs = (*db)->Runs("j-running");
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].state, JobState::kDead);
  EXPECT_EQ((*runs)[1].state, JobState::kCancelled);
}

}  // namespace
}  // namespace fb
