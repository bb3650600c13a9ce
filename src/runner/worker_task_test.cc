#include "runner/worker_task.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/sha256.h"
#include "common/test_dir.h"
#include "model/forest_builder.h"
#include "model/import/native_format.h"
#include "runner/job_db.h"
#include "runner/manifest.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

class WorkerTaskTest : public testing::TestDirTest {
 protected:
  void SetUp() override {
    TestDirTest::SetUp();
    fs::create_directories(dir_ / "in");
    Write("in/a.csv", "x,y\n0.1,0.2\n0.9,0.3\n");
    Write("in/b.csv", "x,y\n0.7,0.7\n");
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(Path(name)) << text; }
  std::string Read(const std::string& name) {
    std::ifstream f(Path(name));
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  // RunWorkerTask with this environment only; its log kept in log_.
  Result<WorkerSummary> Run(const WorkerTaskOptions& o, std::map<std::string, std::string> env = {}) {
    env_ = std::move(env);
    std::FILE* log = std::tmpfile();
    auto r = RunWorkerTask(o, stop_, log, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
    std::rewind(log);
    log_.clear();
    for (int ch; (ch = std::fgetc(log)) != EOF;) log_.push_back(static_cast<char>(ch));
    std::fclose(log);
    return r;
  }
  std::map<std::string, std::string> env_;
  std::atomic<bool> stop_{false};
  std::string log_;
};

TEST_F(WorkerTaskTest, SaysWhatIsMissing) {
  WorkerTaskOptions o;
  o.exec = "cp {input} {output}";
  EXPECT_EQ(Run(o).status().message(), "worker: --input (or INPUT_DIR) is required");
  o.input = Path("in");
  EXPECT_EQ(Run(o).status().message(), "worker: --output (or OUTPUT_DIR) is required");
  o.output = Path("out");
  o.exec.clear();
  EXPECT_EQ(Run(o).status().message(), "worker: --model or --exec is required");
  o.exec = "cp {input} {output}";
  o.index = 0;
  o.count = 1;
  o.state = Path("state");
  EXPECT_EQ(Run(o).status().message(), "worker: --state needs --job");
  o.shard_by = "size";
  EXPECT_EQ(Run(o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("out")));  // nothing started
}

TEST_F(WorkerTaskTest, TakesItsDefaultsFromTheEnvironmentAndRecordsItsFiles) {
  WorkerTaskOptions o;
  o.exec = "cp {input} {output}";
  o.state = Path("state");
  auto sum = Run(o, {{"INPUT_DIR", Path("in")},
                     {"OUTPUT_DIR", Path("out")},
                     {"AWS_BATCH_JOB_ARRAY_INDEX", "0"},
                     {"AWS_BATCH_JOB_ARRAY_SIZE", "1"},
                     {"AWS_BATCH_JOB_ID", "batch-7"},
                     {"FORESTBATCH_SPOT_NOTICE", "off"}});
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->done, 2u);
  EXPECT_EQ(Read("out/a.csv"), Read("in/a.csv"));
  EXPECT_NE(log_.find("worker 1 of 1 (from "), std::string::npos) << log_;
  EXPECT_NE(log_.find("2 files: 2 done, 0 skipped, 0 failed, 0 abandoned"), std::string::npos) << log_;
  auto m = Manifest::Parse(Read("out/.a.csv.fbmanifest.json"), "a");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->options, "exec shell=0 command=cp {input} {output}");
  EXPECT_EQ(m->job, "batch-7");
  auto db = JobDb::Open(Path("state"));
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->Counts("batch-7")->done, 2);
  // A second run skips both: same command, same fingerprint.
  sum = Run(o, env_);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->skipped, 2u);
}

TEST_F(WorkerTaskTest, PredictsWithTheModelAndFingerprintsItsOptions) {
  Forest f;
  f.kind = ModelKind::kRegressor;
  f.n_features = 2;
  f.feature_names = {"x", "y"};
  Tree t;
  t.nodes.resize(3);
  t.nodes[0] = Node{1, 2, 0, 0.5f};
  t.values = {0.0, 1.0, 2.0};
  f.trees.push_back(t);
  auto built = BuildForest(std::move(f));
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  auto bytes = SerializeNativeModel(*built);
  ASSERT_TRUE(bytes.ok());
  Write("model.fbm", *bytes);
  WorkerTaskOptions o;
  o.model = Path("model.fbm");
  o.input = Path("in");
  o.output = Path("out");
  o.index = 0;
  o.count = 1;
  o.threads = 1;
  o.spot_notice = "off";
  o.predict.format = "jsonl";
  auto sum = Run(o);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->done, 2u);
  EXPECT_EQ(sum->rows, 3u);
  EXPECT_TRUE(fs::exists(Path("out/a.jsonl")));  // the output naming rule of the format
  auto m = Manifest::Parse(Read("out/.a.jsonl.fbmanifest.json"), "a");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->options, o.predict.Fingerprint());
  EXPECT_EQ(m->options, "predict format=jsonl proba=0 header=auto delimiter=,");
  EXPECT_EQ(m->model_sha256, Sha256Hex(*bytes));
  EXPECT_EQ(m->rows, 2u);
}

}  // namespace
}  // namespace fb
