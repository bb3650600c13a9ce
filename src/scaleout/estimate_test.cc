#include "scaleout/estimate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "scaleout/submit.h"

namespace fb {
namespace {

using Args = std::vector<std::string>;

TEST(Estimate, ReadsTheJobFromWorkerOptionsAndDropsWhatTheSampleRunSets) {
  auto j = ParseEstimateJob(
      {"--model", "m.joblib", "--input", "in/", "-o", "out/", "--threads", "4", "--shard-by=bytes",
       "--include", "*.csv", "--state=st", "--job", "x", "--format", "seed"},
      {});
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->input, "in/");
  EXPECT_EQ(j->output, "out/");
  EXPECT_EQ(j->shard_by, ShardBy::kBytes);
  EXPECT_EQ(j->filter.include, Args{"*.csv"});
  EXPECT_EQ(j->sample_args,
            (Args{"--model", "m.joblib", "--shard-by=bytes", "--include", "*.csv", "--format", "seed"}));
}

TEST(Estimate, InputFromTheTasksEnvironment) {
  auto j = ParseEstimateJob({"--model", "m"}, {{"INPUT_DIR", "/fsx/input"}, {"OUTPUT_DIR", "/fsx/output"}});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->input, "/fsx/input");
  EXPECT_EQ(j->output, "/fsx/output");
  EXPECT_EQ(ParseEstimateJob({"--model", "m"}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEstimateJob({"--input"}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseEstimateJob({"--input", "a", "--shard-by", "rows"}, {}).ok());
}

TEST(Estimate, MedianSample) {
  std::vector<ObjectInfo> files = {{"a", "a", 50}, {"b", "b", 10}, {"c", "c", 30}, {"d", "d", 20}};
  EXPECT_EQ(MedianSample(files).uri, "d");  // sizes 10 20 30 50: the smaller middle
  files.pop_back();
  EXPECT_EQ(MedianSample(files).uri, "c");
}

TEST(Estimate, ProjectsDurationAndReservedVcpuSeconds) {
  // 10 files of 100 bytes on 4 tasks (seed rule: 3, 3, 3, 1 files).
  std::vector<ObjectInfo> files;
  for (int i = 0; i < 10; ++i) files.push_back({"f" + std::to_string(i), "f" + std::to_string(i), 100});
  SampleTiming s;
  s.bytes = 100;
  s.threads = 2;
  s.file_seconds = 2.0;  // at 2 threads
  s.wall_seconds = 2.5;  // 0.5 s start-up
  Estimate e = ProjectEstimate(files, 4, 2.0, ShardBy::kCount, s, 0.036);
  EXPECT_EQ(e.most_files_per_task, 3);
  EXPECT_DOUBLE_EQ(e.startup_seconds, 0.5);
  EXPECT_DOUBLE_EQ(e.duration_seconds, 0.5 + 3 * 2.0);
  EXPECT_DOUBLE_EQ(e.vcpu_seconds, 2.0 * (3 * 6.5 + 2.5));
  EXPECT_NEAR(*e.Cost(), e.vcpu_seconds / 3600 * 0.036, 1e-15);
  EXPECT_NEAR(*e.PerThousandFiles(), *e.Cost() * 100, 1e-12);
  // Twice the vCPUs: the file part twice as fast (stated as an assumption).
  Estimate f = ProjectEstimate(files, 4, 4.0, ShardBy::kCount, s, std::nullopt);
  EXPECT_DOUBLE_EQ(f.duration_seconds, 0.5 + 3 * 1.0);
  EXPECT_FALSE(f.Cost());
  std::string report = EstimateReport(f, s);
  EXPECT_NE(report.find("scales linearly"), std::string::npos) << report;
  EXPECT_NE(report.find("no price given"), std::string::npos) << report;
  EXPECT_EQ(EstimateReport(e, s).find("scales linearly"), std::string::npos);
}

TEST(Estimate, ParseVcpus) {
  EXPECT_DOUBLE_EQ(*ParseVcpus("2"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseVcpus("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseVcpus("500m"), 0.5);
  for (const char* bad : {"", "0", "m", "-1", "abc", "1e3", "2Gi", "."})
    EXPECT_FALSE(ParseVcpus(bad).ok()) << bad;
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

// `submit --estimate` keeps its projection in the submit record: the record
// carries it through JSON (the form written to STATE/submits/NAME.json), and
// a record whose estimate cannot be read still loads, without it.
TEST(Estimate, KeptInTheSubmitRecord) {
  SubmitSpec s;
  s.engine = Engine::kSlurm;
  s.name = "est";
  s.workers = 3;
  s.forestbatch_path = "/usr/bin/forestbatch";
  s.worker_args = {"--input", "in", "--output", "out"};
  EstimateRecord e;
  e.made_at = "2027-01-15T07:00:00Z";
  e.files = 30;
  e.workers = 3;
  e.vcpus_per_task = 2;
  e.duration_seconds = 61.5;
  e.vcpu_seconds = 369;
  e.price_per_vcpu_hour = 0.02;
  e.sample = "in/a.csv";
  e.assumptions = {"a task's vCPU is as fast as one core here"};
  auto out = Submit(s, testing::TempDir(), /*dry_run=*/true, e);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->record.estimate.has_value());
  auto j = RecordToJson(out->record);
  ASSERT_TRUE(j.contains("estimate"));
  EXPECT_EQ(j["estimate"]["duration_seconds"], 61.5);
  auto back = RecordFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->estimate.has_value());
  EXPECT_EQ(back->estimate->ToJson(), e.ToJson());
  j["estimate"] = {{"files", "many"}};
  back = RecordFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->estimate.has_value());
  out = Submit(s, testing::TempDir(), /*dry_run=*/true);  // without --estimate: none
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(RecordToJson(out->record).contains("estimate"));
}

}  // namespace
}  // namespace fb
