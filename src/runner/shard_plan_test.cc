#include "runner/shard_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fb {
namespace {

std::vector<ObjectInfo> Files(size_t n, std::vector<uint64_t> sizes = {}) {
  std::vector<ObjectInfo> f(n);
  for (size_t i = 0; i < n; ++i) {
    f[i].relative = "f" + std::to_string(100 + i);
    f[i].size = i < sizes.size() ? sizes[i] : 1;
  }
  return f;
}

// The seed's entrypoint, transcribed: BATCH=(n+N-1)/N; ${LIST[@]:i*BATCH:BATCH}.
std::vector<size_t> SeedSlice(size_t n, size_t workers, size_t i) {
  size_t batch = (n + workers - 1) / workers;
  std::vector<size_t> out;
  for (size_t k = i * batch; k < n && k < (i + 1) * batch; ++k) out.push_back(k);
  return out;
}

TEST(ShardPlan, CountMatchesTheSeedForManyShapes) {
  for (size_t n : {0, 1, 2, 3, 7, 10, 99, 100, 101}) {
    for (size_t w : {1, 2, 3, 4, 7, 10, 64, 200}) {
      auto files = Files(n);
      auto plan = PlanShards(files, static_cast<int64_t>(w), ShardBy::kCount);
      ASSERT_EQ(plan.size(), w);
      size_t covered = 0;
      for (size_t i = 0; i < w; ++i) {
        EXPECT_EQ(plan[i], SeedSlice(n, w, i)) << n << " files, " << w << " workers, task " << i;
        EXPECT_EQ(ShardFor(files, static_cast<int64_t>(i), static_cast<int64_t>(w), ShardBy::kCount),
                  plan[i]);
        covered += plan[i].size();
      }
      EXPECT_EQ(covered, n);
    }
  }
}

TEST(ShardPlan, MoreWorkersThanFilesLeavesTheLastTasksEmpty) {
  // 3 files, 5 tasks: batch 1, tasks 3 and 4 get nothing.
  auto plan = PlanShards(Files(3), 5, ShardBy::kCount);
  EXPECT_EQ(plan[0], std::vector<size_t>{0});
  EXPECT_EQ(plan[2], std::vector<size_t>{2});
  EXPECT_TRUE(plan[3].empty());
  EXPECT_TRUE(plan[4].empty());
  // 10 files, 4 tasks: batch 3 -> 3,3,3,1.
  plan = PlanShards(Files(10), 4, ShardBy::kCount);
  EXPECT_EQ(plan[3], std::vector<size_t>{9});
  // 5 files, 4 tasks: batch 2 -> 2,2,1,0 (the seed leaves a task idle).
  plan = PlanShards(Files(5), 4, ShardBy::kCount);
  EXPECT_EQ(plan[2].size(), 1u);
  EXPECT_TRUE(plan[3].empty());
}

TEST(ShardPlan, BytesBalancesAndIsAPartition) {
  auto files = Files(6, {100, 1, 1, 50, 50, 1});
  auto plan = PlanShards(files, 2, ShardBy::kBytes);
  std::vector<int> seen(6, 0);
  uint64_t load[2] = {0, 0};
  for (size_t t = 0; t < 2; ++t) {
    EXPECT_TRUE(std::is_sorted(plan[t].begin(), plan[t].end()));
    for (size_t i : plan[t]) {
      ++seen[i];
      load[t] += files[i].size;
    }
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(load[0], 102u);                                // 100 + 1 + 1: ties go to the lowest task
  EXPECT_EQ(load[1], 101u);                                // 50 + 50 + 1
  EXPECT_EQ(PlanShards(files, 2, ShardBy::kBytes), plan);  // deterministic
}

TEST(ShardPlan, ParseShardBy) {
  EXPECT_EQ(*ParseShardBy("count"), ShardBy::kCount);
  EXPECT_EQ(*ParseShardBy("bytes"), ShardBy::kBytes);
  EXPECT_FALSE(ParseShardBy("size").ok());
}

TEST(ShardPlan, ListInputsSkipsManifestsTemporariesAndANestedOutput) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(testing::TempDir()) / "fb_listinputs";
  fs::remove_all(root);
  fs::create_directories(root / "sub");
  fs::create_directories(root / "out");
  for (const char* p :
       {"b.csv", "a.csv", "sub/c.csv", ".a.csv.fbmanifest.json", ".a.csv.fbtmp.1.2", "out/x.csv"}) {
    std::ofstream(root / p) << "1\n";
  }
  auto files = ListInputs(*LocalStorage(), root.string(), (root / "out").string());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> rel;
  for (auto& f : *files) rel.push_back(f.relative);
  EXPECT_EQ(rel, (std::vector<std::string>{"a.csv", "b.csv", "sub/c.csv"}));
  fs::remove_all(root);
}

TEST(InputOutput, SameFolderRefusedHoweverItIsSpelled) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(testing::TempDir()) / ("fb_inout_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "d" / "sub");
  fs::create_directory_symlink(root / "d", root / "link");
  const std::string d = (root / "d").string();
  for (const std::string& out :
       {d, d + "/", d + "//", d + "/./", (root / "link").string(), (root / "link" / ".." / "d").string(),
        (root / "d" / "sub" / "..").string()}) {
    EXPECT_FALSE(CheckInputOutput(d, out, true).ok()) << out;
    EXPECT_FALSE(CheckInputOutput(out, d, true).ok()) << out;
  }
  // Relative spellings, from the folder above.
  const fs::path cwd = fs::current_path();
  fs::current_path(root);
  EXPECT_FALSE(CheckInputOutput("d", "./d/", true).ok());
  EXPECT_FALSE(CheckInputOutput("./link", "d", true).ok());
  EXPECT_TRUE(CheckInputOutput("d", "d2", true).ok());
  fs::current_path(cwd);
  // The input inside the output: refused; the output inside the input only
  // where it is not allowed (run and worker skip it when listing).
  EXPECT_FALSE(CheckInputOutput((root / "d" / "sub").string(), d, true).ok());
  EXPECT_FALSE(CheckInputOutput((root / "link" / "sub").string(), d, true).ok());
  EXPECT_TRUE(CheckInputOutput(d, (root / "link" / "sub").string(), true).ok());
  EXPECT_FALSE(CheckInputOutput(d, (root / "link" / "sub").string(), false).ok());
  EXPECT_TRUE(CheckInputOutput(d, (root / "d2").string(), false).ok());
  EXPECT_TRUE(CheckInputOutput(d, (root / "dd").string(), false).ok());  // a prefix is not a parent
  // S3 prefixes.
  EXPECT_FALSE(CheckInputOutput("s3://b/data", "s3://b/data/", true).ok());
  EXPECT_FALSE(CheckInputOutput("s3://b//data/", "s3://b/data", true).ok());
  EXPECT_FALSE(CheckInputOutput("s3://b/data/in", "s3://b/data/", true).ok());
  EXPECT_TRUE(CheckInputOutput("s3://b/data/", "s3://b/data/out/", true).ok());
  EXPECT_FALSE(CheckInputOutput("s3://b/data/", "s3://b/data/out/", false).ok());
  EXPECT_TRUE(CheckInputOutput("s3://b/data/", "s3://b/data2/", false).ok());
  EXPECT_TRUE(CheckInputOutput("s3://b/data/", "s3://c/data/", false).ok());
  fs::remove_all(root);
}

TEST(ShardPlan, ListInputsSkipsANestedOutputSpelledThroughALink) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(testing::TempDir()) / ("fb_listlink_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "in" / "out");
  fs::create_directory_symlink(root / "in", root / "link");
  std::ofstream(root / "in" / "a.csv") << "1\n";
  std::ofstream(root / "in" / "out" / "a.csv") << "1\n";
  for (const fs::path& out : {root / "link" / "out", root / "in" / "." / "out/"}) {
    auto files = ListInputs(*LocalStorage(), (root / "in").string(), out.string());
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), 1u) << out;
    EXPECT_EQ((*files)[0].relative, "a.csv");
  }
  fs::remove_all(root);
}

TEST(InputFilter, SkipsWhatSparkAndPandasSkipAndSelectsByGlob) {
  InputFilter none;
  for (const char* skip :
       {"_SUCCESS", "_committed_123", "._SUCCESS.crc", ".part-00000.crc", "x.crc", "_delta_log/0000.json",
        "_temporary/0/part-1.parquet", ".hidden/a.csv", "d/.DS_Store"})
    EXPECT_FALSE(none.Accepts(skip)) << skip;
  for (const char* keep :
       {"part-00000-abc.snappy.parquet", "a.csv", "year=2024/part-0.parquet", "d/a.csv.gz"})
    EXPECT_TRUE(none.Accepts(keep)) << keep;
  // Hostile ".." components are not "hidden": JoinUnder must report them.
  EXPECT_TRUE(none.Accepts("../escape.csv"));
  InputFilter f{{"*.parquet"}, {"*bad*"}};
  EXPECT_TRUE(f.Accepts("y=1/part-0.parquet"));  // no '/': matches the file name
  EXPECT_FALSE(f.Accepts("y=1/part-0.csv"));
  EXPECT_FALSE(f.Accepts("y=1/bad.parquet"));
  InputFilter path{{"2024/*.csv"}, {}};
  EXPECT_TRUE(path.Accepts("2024/a.csv"));
  EXPECT_FALSE(path.Accepts("2024/x/a.csv"));
  InputFilter deep{{"2024/**.csv"}, {}};
  EXPECT_TRUE(deep.Accepts("2024/x/a.csv"));
}

}  // namespace
}  // namespace fb
