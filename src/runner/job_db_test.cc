#include "runner/job_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "runner/local_job.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

TEST(JobDb, RecordsJobsTasksAndFiles) {
  fs::path dir = fs::path(testing::TempDir()) / ("fb_jobdb_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto db = JobDb::Open(dir.string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  JobRecord j;
  j.id = "j1";
  j.state = "running";
  j.spec_json = JobSpec().ToJson();
  ASSERT_TRUE((*db)->CreateJob(j).ok());
  EXPECT_FALSE((*db)->CreateJob(j).ok());  // ids are unique
  ASSERT_TRUE((*db)->AddPendingFiles("j1", {"a", "b", "c"}, {0, 0, 1}).ok());
  FileRecord f;
  f.relative = "a";
  f.state = "done";
  f.rows = 10;
  ASSERT_TRUE((*db)->RecordFile("j1", f).ok());
  f.state = "skipped";  // a resume skips what it did: stays done
  f.rows = 10;
  ASSERT_TRUE((*db)->RecordFile("j1", f).ok());
  f.relative = "b";
  f.state = "failed";
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
  t.state = "running";
  ASSERT_TRUE((*db)->UpsertTask("j1", t).ok());
  ASSERT_TRUE((*db)->UpdateJob("j1", "failed", 1, 2.5).ok());
  auto js = JobStatusJson(**db, "j1", dir.string());
  ASSERT_TRUE(js.ok());
  EXPECT_NE(js->find("\"failed_files\""), std::string::npos);
  EXPECT_NE(js->find("boom"), std::string::npos);
  auto spec = JobSpec::FromJson((*(*db)->GetJob("j1"))->spec_json);
  EXPECT_TRUE(spec.ok());
  EXPECT_EQ(JobStatusJson(**db, "nope", dir.string()).status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

TEST(JobDb, ConcurrentWritersFromSeparateConnections) {
  fs::path dir = fs::path(testing::TempDir()) / ("fb_jobdb_mt_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(JobDb::Open(dir.string()).ok());
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto db = JobDb::Open(dir.string());
      if (!db.ok()) {
        ++errors;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        FileRecord f;
        f.relative = "t" + std::to_string(t) + "_" + std::to_string(i);
        f.state = "done";
        f.rows = 1;
        if (!(*db)->RecordFile("j", f).ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto db = JobDb::Open(dir.string());
  EXPECT_EQ((*db)->Counts("j")->done, 200);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fb
