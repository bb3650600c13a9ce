#include "train/tune_job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/test_dir.h"
#include "train/rng.h"

namespace fb::train {
namespace {

namespace fs = std::filesystem;

class TuneJobTest : public testing::TestDirTest {
 protected:
  void SetUp() override {
    TestDirTest::SetUp();
    // y = yes when x0 + x1 > 1, or colour is red; x2 is noise.
    Rng rng(5);
    std::string csv = "x0,x1,x2,colour,y\n";
    const char* colours[] = {"red", "green", "blue"};
    for (int i = 0; i < 600; ++i) {
      double a = rng.Uniform(), b = rng.Uniform(), c = rng.Uniform();
      const char* col = colours[rng.Below(3)];
      bool y = a + b > 1 || std::string(col) == "red";
      csv += std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "," + col + "," +
             (y ? "yes" : "no") + "\n";
    }
    data_ = Path("train.csv");
    ASSERT_TRUE(WriteFileAtomically(data_, csv).ok());
  }

  TunePlan Plan() {
    TunePlan p;
    p.data = data_;
    p.target = "y";
    p.params = {{"n_estimators", "8"}, {"seed", "3"}};
    p.points = *ParseGrid("max_depth=1,4;max_features=1,none");
    p.k = 3;
    p.scoring = Scoring::kRocAuc;
    return p;
  }

  std::string data_;
};

TEST_F(TuneJobTest, TasksRunSeparatelyGiveTheInProcessResult) {
  TunePlan plan = Plan();
  TrainingData data;
  ASSERT_TRUE(MakeTunePlan(&plan, &data).ok());
  EXPECT_TRUE(fs::path(plan.data).is_absolute());
  ASSERT_EQ(plan.n_tasks(), 12u);
  const std::string dir = Path("tune");
  ASSERT_TRUE(WriteTunePlan(plan, dir).ok());
  auto read = ReadTunePlan(dir);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->id, plan.id);

  // Not all results yet: collect names what is missing.
  for (size_t t = 0; t < plan.n_tasks(); t += 2) {
    Status st = RunTuneTaskFile(dir + "/tasks/" + TuneTaskName(t), dir + "/results/" + TuneTaskName(t), 1);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto partial = CollectTune(plan, dir + "/results");
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("6 of the 12 tasks have no result yet: 1, 3, 5"),
            std::string::npos)
      << partial.status().ToString();
  for (size_t t = 1; t < plan.n_tasks(); t += 2) {
    Status st = RunTuneTaskFile(dir + "/tasks/" + TuneTaskName(t), dir + "/results/" + TuneTaskName(t), 2);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto collected = CollectTune(plan, dir + "/results");
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();

  auto base = BaseParams(plan);
  ASSERT_TRUE(base.ok());
  auto in_process = Tune(data, *base, plan.points, plan.k, 3, plan.scoring);
  ASSERT_TRUE(in_process.ok());
  EXPECT_EQ(collected->best, in_process->best);
  for (size_t p = 0; p < plan.points.size(); ++p) {
    for (int f = 0; f < plan.k; ++f) {
      EXPECT_EQ(collected->folds[p][f].roc_auc, in_process->folds[p][f].roc_auc) << p << " " << f;
      EXPECT_EQ(collected->folds[p][f].log_loss, in_process->folds[p][f].log_loss) << p << " " << f;
      EXPECT_EQ(collected->folds[p][f].n_test, in_process->folds[p][f].n_test);
    }
  }
  EXPECT_EQ(TuneTable(*collected, plan.scoring, data.kind), TuneTable(*in_process, plan.scoring, data.kind));
  EXPECT_EQ(TuneTableCsv(*collected, plan.scoring), TuneTableCsv(*in_process, plan.scoring));
  EXPECT_EQ(TuneTableCsv(*collected, plan.scoring).substr(0, 55),
            "rank,max_depth,max_features,mean_roc_auc,fold_1,fold_2,");
}

TEST_F(TuneJobTest, ReplanningKeepsFilesAndRefusesAnotherPlan) {
  TunePlan plan = Plan();
  ASSERT_TRUE(MakeTunePlan(&plan).ok());
  const std::string dir = Path("tune");
  ASSERT_TRUE(WriteTunePlan(plan, dir).ok());
  const auto mtime = fs::last_write_time(dir + "/tasks/" + TuneTaskName(3));
  ASSERT_TRUE(WriteTunePlan(plan, dir).ok());  // the same plan: nothing rewritten
  EXPECT_EQ(fs::last_write_time(dir + "/tasks/" + TuneTaskName(3)), mtime);
  TunePlan other = Plan();
  other.k = 2;
  ASSERT_TRUE(MakeTunePlan(&other).ok());
  EXPECT_NE(other.id, plan.id);
  Status st = WriteTunePlan(other, dir);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
}

TEST_F(TuneJobTest, ErrorsAreCaughtBeforeAndDuringTasks) {
  TunePlan bad = Plan();
  bad.points = *ParseGrid("criterion=squared_error");  // a regression criterion for a classifier
  EXPECT_EQ(MakeTunePlan(&bad).code(), StatusCode::kInvalidArgument);
  TunePlan scoring = Plan();
  scoring.scoring = Scoring::kR2;
  EXPECT_EQ(MakeTunePlan(&scoring).code(), StatusCode::kInvalidArgument);
  TunePlan missing = Plan();
  missing.data = Path("nope.csv");
  EXPECT_EQ(MakeTunePlan(&missing).code(), StatusCode::kNotFound);

  TunePlan plan = Plan();
  ASSERT_TRUE(MakeTunePlan(&plan).ok());
  const std::string dir = Path("tune");
  ASSERT_TRUE(WriteTunePlan(plan, dir).ok());
  // A result of another plan is refused by collect.
  TunePlan other = Plan();
  other.params = {{"n_estimators", "3"}};
  ASSERT_TRUE(MakeTunePlan(&other).ok());
  ASSERT_TRUE(WriteTunePlan(other, Path("other")).ok());
  for (size_t t = 0; t < plan.n_tasks(); ++t)
    ASSERT_TRUE(
        RunTuneTaskFile(dir + "/tasks/" + TuneTaskName(t), dir + "/results/" + TuneTaskName(t), 1).ok());
  ASSERT_TRUE(
      RunTuneTaskFile(Path("other") + "/tasks/" + TuneTaskName(0), dir + "/results/" + TuneTaskName(0), 1)
          .ok());
  auto c = CollectTune(plan, dir + "/results");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().ToString().find("task-00000.json: a result of another tune plan"), std::string::npos)
      << c.status().ToString();
  // The data changed after planning: tasks refuse to run on it.
  std::ofstream(data_, std::ios::app) << "0.5,0.5,0.5,red,yes\n";
  Status st = RunTuneTaskFile(dir + "/tasks/" + TuneTaskName(1), Path("r.json"), 1);
  EXPECT_EQ(st.code(), StatusCode::kInvalidData);
  EXPECT_NE(st.message().find("changed since the tune was planned"), std::string::npos) << st.ToString();
  EXPECT_FALSE(fs::exists(Path("r.json")));
  // A task file edited by hand.
  ASSERT_TRUE(WriteFileAtomically(Path("t.json"), "{\"forestbatch_tune_task\": 1, \"plan\": {}}").ok());
  EXPECT_EQ(RunTuneTaskFile(Path("t.json"), Path("r.json"), 1).code(), StatusCode::kInvalidData);
}

}  // namespace
}  // namespace fb::train
